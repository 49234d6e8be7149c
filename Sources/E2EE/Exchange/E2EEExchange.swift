/// One encrypted exchange: the request's checked headers, and what it needs to seal the answer.
///
/// Order of use: `init` (headers and endpoint), `openRequest` (the body to forward), `claimReplay`, then for a
/// 200 answer `responseHeaders` with `sealResponse` or `streamSealer()`. Which fields each dialect opens and
/// seals on which endpoint: docs/E2EE.md, "Which fields".
package struct E2EEExchange: Sendable {
    /// The dialect with its checked headers (legacy v1's choice of cipher is fixed by `openRequest`).
    package private(set) var context: E2EERequestContext
    package let endpoint: E2EEEndpoint
    /// The request's `model`, which ACI binds into the answer's AAD.
    private var aciModel = ""
    /// How far a v2 timestamp may be from now, and how long its nonce stays spent.
    private let window: Int64

    /// nil for a plaintext request (no E2EE header at all). Throws the dialect's 400 for bad headers, and
    /// e2ee_unsupported_endpoint / invalid_e2ee_request / NEAR bad_request for an endpoint the dialect does not cover.
    ///
    /// The endpoint is checked once the dialect is known and before its headers are, as DV's handler and ACI's
    /// gateway refuse an uncovered endpoint whatever the headers say.
    package init?(
        headers: E2EEHeaders, endpoint: E2EEEndpoint, keys: E2EEServerKeys, keyset: [ACIKey], now: Int64,
        window: Int64 = ACIContext.window
    ) throws(E2EEError) {
        guard let dialect = try E2EEDialect.detect(headers) else { return nil }
        let covered: Bool
        let family: E2EEError.Family
        switch dialect {
        case .dvV1, .dvV2:
            covered = endpoint == .chatCompletions
            family = .dv
        case .nearV1, .nearV2, .legacyV1:
            covered = [.chatCompletions, .completions, .embeddings, .rerank, .score].contains(endpoint)
            // Without `X-Model-Pub-Key` the shared v1 is NEAR's (E2EERequestContext.parse).
            family = dialect == .legacyV1 && headers.modelPublicKey != nil ? .dv : .near
        case .aciV2:
            covered = [.chatCompletions, .completions, .embeddings].contains(endpoint)
            family = .aci
        }
        guard covered else { throw .unsupportedEndpoint(family) }
        guard let context = try E2EERequestContext.parse(headers, keys: keys, keyset: keyset, now: now, window: window) else {
            return nil
        }
        self.context = context
        self.endpoint = endpoint
        self.window = window
    }

    /// Decrypts the request's encrypted fields (the whole request body as received) and returns the body to
    /// forward to vLLM (plaintext JSON). Only the encrypted values change: every other byte is kept.
    /// Remembers what the answer needs (the request model for ACI's AAD, legacy v1's choice of cipher).
    /// Before any field is opened, refuses clear parameters that ask for answer fields the dialect does not seal
    /// and more than `E2EERequestOpener.maxEncryptedFields` encrypted fields (docs/E2EE.md, "What E2EE refuses").
    package mutating func openRequest(_ body: [UInt8]) throws(E2EEError) -> [UInt8] {
        let opened = try E2EERequestOpener.open(body, context: &self.context, endpoint: self.endpoint)
        if let model = opened.aciModel { self.aciModel = model }
        return opened.body
    }

    /// After openRequest succeeded: claim the nonce (DV v2, ACI v2); no-op for dialects without replay protection.
    package func claimReplay(store: some E2EEReplayStore, now: Int64) async throws(E2EEError) {
        switch self.context {
        case .dv(let dv): try await dv.claimNonce(now: now, window: self.window, store: store)
        case .aci(let aci): try await aci.claimNonce(now: now, window: self.window, store: store)
        case .near, .legacyV1: return
        }
    }

    /// Headers the answer carries (DV: `X-E2EE-Applied: true`, `X-E2EE-Version`, `X-E2EE-Algo`, `X-E2EE-Alg`;
    /// ACI: `X-E2EE-Applied`, `X-E2EE-Version: 2`, `X-E2EE-Algo` with the suite; NEAR none; legacy v1 as the
    /// request showed, DV's when undecided).
    package var responseHeaders: [(name: String, value: String)] {
        switch self.context {
        case .dv(let dv): dv.responseHeaders
        case .aci(let aci): aci.responseHeaders
        case .legacyV1(let legacy): legacy.responseHeaders
        case .near: []
        }
    }

    /// Seals a whole non-streamed 200 JSON answer; returns the bytes to send (the sealed fields' values replaced
    /// by their hex strings, every other byte as received). A body that is not JSON, or an ACI field of the wrong
    /// type, is `unsealableAnswer` (502): nothing of it may be sent.
    package func sealResponse(_ body: [UInt8]) throws(E2EEError) -> [UInt8] {
        try self.answerSealer.seal(body, streamed: false)
    }

    /// A sealer for a streamed (SSE) answer.
    package func streamSealer() -> E2EEStreamSealer {
        E2EEStreamSealer(self.answerSealer)
    }

    var answerSealer: E2EEAnswerSealer {
        E2EEAnswerSealer(context: self.context, endpoint: self.endpoint, aciModel: self.aciModel)
    }
}
