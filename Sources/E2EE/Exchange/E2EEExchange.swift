/// One encrypted exchange: the request's checked headers, and what it needs to seal the answer.
package struct E2EEExchange: Sendable {
    package let context: E2EERequestContext
    package let endpoint: E2EEEndpoint

    /// nil for a plaintext request (no E2EE header at all). Throws the dialect's 400 for bad headers, and
    /// e2ee_unsupported_endpoint / invalid_e2ee_request / NEAR bad_request for an endpoint the dialect does not cover.
    package init?(
        headers: E2EEHeaders, endpoint: E2EEEndpoint, keys: E2EEServerKeys, keyset: [ACIKey], now: Int64
    ) throws(E2EEError) {
        guard let context = try E2EERequestContext.parse(headers, keys: keys, keyset: keyset, now: now) else {
            return nil
        }
        self.context = context
        self.endpoint = endpoint
    }

    /// Decrypts the request's encrypted fields and returns the body to forward (plaintext JSON).
    package mutating func openRequest(_ body: [UInt8]) throws(E2EEError) -> [UInt8] {
        throw .unsupportedEndpoint(.dv)
    }

    /// After openRequest succeeded: claim the nonce (DV v2, ACI v2); no-op for dialects without replay protection.
    package func claimReplay(store: some E2EEReplayStore, now: Int64) async throws(E2EEError) {
        switch self.context {
        case .dv(let dv): try await dv.claimNonce(now: now, store: store)
        case .aci(let aci): try await aci.claimNonce(now: now, store: store)
        case .near, .legacyV1: return
        }
    }

    /// Headers the answer carries.
    package var responseHeaders: [(name: String, value: String)] {
        switch self.context {
        case .dv(let dv): dv.responseHeaders
        case .aci(let aci): aci.responseHeaders
        case .legacyV1(let legacy): legacy.responseHeaders
        case .near: []
        }
    }

    /// Seals a whole non-streamed 200 JSON answer; returns the bytes to send.
    package func sealResponse(_ body: [UInt8]) throws(E2EEError) -> [UInt8] {
        throw .unsupportedEndpoint(.dv)
    }

    /// A sealer for a streamed (SSE) answer.
    package func streamSealer() -> E2EEStreamSealer {
        E2EEStreamSealer(exchange: self)
    }
}
