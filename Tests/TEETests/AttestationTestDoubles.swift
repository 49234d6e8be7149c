import Crypto
import Foundation
import SigningCore
import SigningCrypto
import Synchronization
import TestFixtures
import Testing

@testable import TEE

/// The dstack fixtures (`Fixtures/dstack`) decoded for the attestation tests.
enum AttestationFixtures {
    static func json(_ relative: String) throws -> [String: Any] {
        let data = Data(try Fixtures.bytes(relative))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The dstack 0.6.0 GetQuote answer: quote bytes, event log and vm_config strings.
    static func getQuote() throws -> (quote: [UInt8], eventLog: String, vmConfig: String) {
        let object = try json("dstack/tdx-lite-getquote.json")
        let quoteHex = try #require(object["quote"] as? String)
        return (
            try Hex.decode(quoteHex),
            try #require(object["event_log"] as? String),
            try #require(object["vm_config"] as? String)
        )
    }

    static func appKeysCACert() throws -> String {
        try #require(try json("dstack/appkeys.json")["ca_cert"] as? String)
    }

    /// The simulator-derived keys for `MODEL_NAME=tiny`, with provenance.
    static func simulatorKeys(origin: SigningKeys.Origin = .tee) throws -> SigningKeys {
        let ecdsa = try Secp256k1PrivateKey(rawRepresentation: try Hex.decode("f5a9f436830b1fce8112b1267a45521020b0f220e336553079308c0c47760765"))
        let ed25519 = try Curve25519.Signing.PrivateKey(
            rawRepresentation: try Hex.decode("b1bd5bf3207b1feadc6ec9f82747905f00d00be9e0628c8b4e6f449ac96b66bf")
        )
        let k256Signature = "k256-link-1"
        return SigningKeys(
            ecdsa: ecdsa,
            ed25519: ed25519,
            origin: origin,
            ecdsaProvenance: KeyProvenance(
                path: "tiny/ecdsa-signing-key",
                purpose: "signing",
                algorithm: "secp256k1",
                publicKey: "025a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8",
                signatureChain: ["ecdsa-link-0", k256Signature],
                appID: "5bb4ff9a3837357f19dc176407a5709c62eb6c56"
            ),
            ed25519Provenance: KeyProvenance(
                path: "tiny/ed25519-signing-key",
                purpose: "signing",
                algorithm: "ed25519",
                publicKey: "763b714f70ece323e9bc5894a0113e16192938c11af32a9b8043ee0402416b31",
                signatureChain: ["ed25519-link-0", k256Signature],
                appID: nil
            )
        )
    }

    static let infoObject = #"{"app_id":"5bb4ff9a3837357f19dc176407a5709c62eb6c56","instance_id":"1691ed1b47506cad7d08834668691d88246f5b1f","tcb_info":{"mrtd":"00","rtmr0":"01","event_log":[],"app_compose":"{\"name\":\"x\"}"},"app_name":"tiny"}"#

    static func info() -> DstackInfo {
        DstackInfo(
            raw: Array(infoObject.utf8),
            appID: "5bb4ff9a3837357f19dc176407a5709c62eb6c56",
            instanceID: "1691ed1b47506cad7d08834668691d88246f5b1f",
            composeHash: nil,
            appCompose: #"{"name":"x"}"#,
            reportObjectJSON: Array(infoObject.utf8)
        )
    }
}

/// A scripted dstack agent: answers GetQuote from a quote template, patching REPORT_DATA like the simulator.
final class AttestationFakeAgent: DstackAgent {
    struct Behaviour: Sendable {
        /// Patch the requested report_data into the template (a correct agent); false returns it unchanged.
        var patchReportData = true
        /// Quote version written into bytes 0..<2 of the template (4 or 5).
        var quoteVersion: UInt16 = 4
        /// Fail this many GetQuote calls (from the first) with a connect error.
        var failingQuotes = 0
        /// Hold every GetQuote until `openGate()`.
        var gated = false
    }

    private struct State {
        var behaviour: Behaviour
        var quoteCalls = 0
        var quotesInProgress = 0
        var infoCalls = 0
        var requestedReportData: [[UInt8]] = []
        var gateOpen = false
        var gateWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let template: [UInt8]
    let eventLog: String
    let vmConfig: String
    private let state: Mutex<State>

    init(behaviour: Behaviour = Behaviour()) throws {
        let fixture = try AttestationFixtures.getQuote()
        self.template = fixture.quote
        self.eventLog = fixture.eventLog
        self.vmConfig = fixture.vmConfig
        self.state = Mutex(State(behaviour: behaviour))
    }

    var quoteCalls: Int { state.withLock { $0.quoteCalls } }
    var quotesInProgress: Int { state.withLock { $0.quotesInProgress } }
    var infoCalls: Int { state.withLock { $0.infoCalls } }
    var requestedReportData: [[UInt8]] { state.withLock { $0.requestedReportData } }

    func openGate() {
        let waiters = state.withLock { state in
            state.gateOpen = true
            defer { state.gateWaiters = [] }
            return state.gateWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits (bounded) until `count` GetQuote calls have arrived.
    func waitForQuoteCalls(_ count: Int) async throws {
        for _ in 0..<2_000 where quoteCalls < count {
            try await Task.sleep(for: .milliseconds(5))
        }
        try #require(quoteCalls >= count)
    }

    func version() async throws -> DstackVersion? { DstackVersion(version: "0.5.8", rev: "test") }

    func getKey(path: String, purpose: String, algorithm: String) async throws -> DstackKey {
        throw DstackAgentError.status(400, "not used by these tests")
    }

    func getQuote(reportData: [UInt8]) async throws -> DstackQuote {
        let (behaviour, call, mustWait) = state.withLock { state in
            state.quoteCalls += 1
            state.quotesInProgress += 1
            state.requestedReportData.append(reportData)
            return (state.behaviour, state.quoteCalls, state.behaviour.gated && !state.gateOpen)
        }
        defer { state.withLock { $0.quotesInProgress -= 1 } }
        if mustWait {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.gateOpen { return true }
                    state.gateWaiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        if call <= behaviour.failingQuotes {
            throw DstackAgentError.connect("fake agent refused")
        }
        var quote = template
        quote[0] = UInt8(behaviour.quoteVersion & 0xFF)
        quote[1] = UInt8(behaviour.quoteVersion >> 8)
        if behaviour.patchReportData {
            let start = behaviour.quoteVersion == 5 ? 574 : 568
            let padded = reportData + [UInt8](repeating: 0, count: 64 - reportData.count)
            quote.replaceSubrange(start..<(start + 64), with: padded)
        }
        return DstackQuote(quoteHex: Hex.encode(quote), quote: quote, eventLog: eventLog, reportData: reportData, vmConfig: vmConfig)
    }

    func info() async throws -> DstackInfo {
        state.withLock { $0.infoCalls += 1 }
        return AttestationFixtures.info()
    }
}

/// A GPU provider that records nonces and answers as scripted.
final class AttestationFakeGPU: GPUEvidenceProvider {
    enum Behaviour: Sendable {
        case canned
        case fail
    }

    private let behaviour: Behaviour
    private let nonces = Mutex<[[UInt8]]>([])

    init(_ behaviour: Behaviour = .canned) {
        self.behaviour = behaviour
    }

    var requestedNonces: [[UInt8]] { nonces.withLock { $0 } }

    func evidence(nonce: [UInt8]) async throws -> GPUEvidence {
        nonces.withLock { $0.append(nonce) }
        switch behaviour {
        case .canned:
            return try await CannedEvidenceProvider().evidence(nonce: nonce)
        case .fail:
            throw GPUEvidenceError.nvml("nvmlDeviceGetConfComputeGpuAttestationReport(0)", "Unknown Error (999)")
        }
    }
}

/// A hand-moved clock for cache expiry.
final class AttestationManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    var now: ContinuousClock.Instant { instant.withLock { $0 } }

    func advance(by duration: Duration) {
        instant.withLock { $0 = $0.advanced(by: duration) }
    }
}
