/// The v0 dstack guest-agent surface signing-proxy uses.
package protocol DstackAgent: Sendable {
    /// nil when the agent predates `Version` (404 with a non-JSON or Service-not-found body).
    func version() async throws -> DstackVersion?
    /// `POST /GetKey`: the 32-byte key derived for `path` and its two-link signature chain.
    func getKey(path: String, purpose: String, algorithm: String) async throws -> DstackKey
    /// `POST /GetQuote`: a TDX quote whose REPORT_DATA is `reportData` zero-padded to 64 bytes.
    func getQuote(reportData: [UInt8]) async throws -> DstackQuote
    /// `POST /Info`: the application's identity and TCB information (unattested).
    func info() async throws -> DstackInfo
}

/// The agent's `Version` answer.
package struct DstackVersion: Sendable, Equatable {
    package var version: String
    package var rev: String

    package init(version: String, rev: String) {
        self.version = version
        self.rev = rev
    }
}

/// A key returned by `GetKey` (secret: never log `key`).
package struct DstackKey: Sendable {
    package var key: [UInt8]
    package var signatureChain: [[UInt8]]

    package init(key: [UInt8], signatureChain: [[UInt8]]) {
        self.key = key
        self.signatureChain = signatureChain
    }
}

/// A `GetQuote` answer.
package struct DstackQuote: Sendable {
    /// Verbatim from the agent.
    package var quoteHex: String
    /// Decoded quote bytes.
    package var quote: [UInt8]
    /// Verbatim JSON array inside a string.
    package var eventLog: String
    package var reportData: [UInt8]?
    package var vmConfig: String?

    package init(quoteHex: String, quote: [UInt8], eventLog: String, reportData: [UInt8]?, vmConfig: String?) {
        self.quoteHex = quoteHex
        self.quote = quote
        self.eventLog = eventLog
        self.reportData = reportData
        self.vmConfig = vmConfig
    }
}

/// An `Info` answer.
package struct DstackInfo: Sendable {
    /// The agent's response bytes.
    package var raw: [UInt8]
    /// Hex, 20 bytes.
    package var appID: String?
    package var instanceID: String?
    package var composeHash: String?
    /// `tcb_info.app_compose` verbatim.
    package var appCompose: String?
    /// The Info object with `tcb_info` parsed from its string into an object, compact JSON (`info` in
    /// docs/API.md, Response fields).
    package var reportObjectJSON: [UInt8]

    package init(
        raw: [UInt8],
        appID: String?,
        instanceID: String?,
        composeHash: String?,
        appCompose: String?,
        reportObjectJSON: [UInt8]
    ) {
        self.raw = raw
        self.appID = appID
        self.instanceID = instanceID
        self.composeHash = composeHash
        self.appCompose = appCompose
        self.reportObjectJSON = reportObjectJSON
    }
}
