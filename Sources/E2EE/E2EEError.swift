/// A request the proxy refuses under E2EE, with the error `type` and message of the dialect that refused it.
///
/// Messages are fixed strings: they never quote key material, ciphertext or plaintext, so they are safe to log
/// and to send. DV and ACI answer with their `e2ee_*` types (docs/E2EE.md, "Errors"); NEAR's proxy answers every
/// E2EE fault with `bad_request`, so a NEAR-dialect error keeps that type and says which rule failed.
package struct E2EEError: Error, CustomStringConvertible, Hashable, Sendable {
    private enum Code: Hashable, Sendable {
        case headerMissing
        case invalidSigningAlgo
        case invalidPublicKey
        case modelKeyMismatch
        case invalidVersion
        case invalidNonce
        case replayDetected
        case replayCapacity
        case invalidTimestamp
        case decryptionFailed
        case malformedField
        case invalidPlaintext
        case mixedHeaders
        case invalidPayloadModel
        case unsupportedEndpoint
        case invalidBody
        case unsealableAnswer
        /// A clear request parameter that would make vLLM answer with a field the dialect does not seal.
        case unsealedParameter(String)
        case tooManyFields
    }

    /// Whose error vocabulary answers the client.
    package enum Family: Hashable, Sendable {
        case dv
        case near
        case aci
    }

    private let code: Code

    /// The dialect whose error shape the answer takes.
    package let family: Family

    private init(_ code: Code, _ family: Family) {
        self.code = code
        self.family = family
    }

    /// The HTTP status: every E2EE refusal is a 400 (the replay store at capacity included: the client may retry);
    /// an upstream answer that cannot be sealed is the upstream's fault, a 502 (nothing of it is sent).
    package var status: Int { self.code == .unsealableAnswer ? 502 : 400 }

    /// The OpenAI error envelope's `type`.
    package var type: String {
        if self.code == .unsealableAnswer { return "server_error" }
        if self.family == .near { return "bad_request" }
        return switch self.code {
        case .headerMissing: "e2ee_header_missing"
        case .invalidSigningAlgo: "e2ee_invalid_signing_algo"
        case .invalidPublicKey: "e2ee_invalid_public_key"
        case .modelKeyMismatch: "e2ee_model_key_mismatch"
        case .invalidVersion: "e2ee_invalid_version"
        case .invalidNonce: "e2ee_invalid_nonce"
        case .replayDetected, .replayCapacity: "e2ee_replay_detected"
        case .invalidTimestamp: "e2ee_invalid_timestamp"
        case .decryptionFailed: "e2ee_decryption_failed"
        // DV answers a field that is not hex, a plaintext that is not UTF-8 and an endpoint without E2EE with its
        // catch-all `invalid_e2ee_request` (its `ValueError` path); ACI names them as below.
        case .malformedField, .invalidPlaintext: self.family == .dv ? "invalid_e2ee_request" : "e2ee_decryption_failed"
        case .mixedHeaders, .unsealedParameter, .tooManyFields: "invalid_e2ee_request"
        case .invalidPayloadModel: "e2ee_invalid_payload_model"
        case .unsupportedEndpoint: self.family == .dv ? "invalid_e2ee_request" : "e2ee_unsupported_endpoint"
        // DV's handler answers a body it cannot read as `invalid_e2ee_request`; ACI's gateway a body that is not
        // JSON as `e2ee_decryption_failed` (one that is JSON but not an object fails its model check first).
        case .invalidBody: self.family == .dv ? "invalid_e2ee_request" : "e2ee_decryption_failed"
        case .unsealableAnswer: "server_error"  // answered above
        }
    }

    /// The envelope's `message`.
    package var message: String {
        switch self.code {
        case .headerMissing:
            switch self.family {
            case .near: "Both X-Signing-Algo and X-Client-Pub-Key headers must be present together"
            case .dv: "E2EE requires X-Signing-Algo, X-Client-Pub-Key and X-Model-Pub-Key; X-E2EE-Nonce and X-E2EE-Timestamp must be provided together"
            case .aci: "E2EE v2 requires X-E2EE-Version, X-Client-Pub-Key, X-Model-Pub-Key, X-E2EE-Nonce and X-E2EE-Timestamp"
            }
        case .invalidSigningAlgo: "Invalid X-Signing-Algo. Must be 'ecdsa' or 'ed25519'"
        case .invalidPublicKey: "A public key header is not a valid hex-encoded key for the selected algorithm"
        case .modelKeyMismatch: "X-Model-Pub-Key does not match this proxy instance"
        case .invalidVersion:
            switch self.family {
            case .near: "Invalid X-Encryption-Version. Must be 1 or 2"
            case .dv: "Unsupported X-E2EE-Version; supported versions are 1 and 2"
            case .aci: "Unsupported X-E2EE-Version; this service terminates E2EE version 2"
            }
        case .invalidNonce:
            self.family == .aci
                ? "X-E2EE-Nonce must be exactly 64 hexadecimal characters"
                : "X-E2EE-Nonce must be 16 to \(DVContext.maxNonceLength) characters"
        case .replayDetected: "Replay detected: this E2EE nonce was already used inside the replay window"
        case .replayCapacity: "Replay protection is at capacity; retry later"
        case .invalidTimestamp: "X-E2EE-Timestamp is malformed or outside the allowed replay window"
        case .decryptionFailed: self.family == .near ? "Decryption failed" : "E2EE decryption failed"
        case .malformedField:
            self.family == .near ? "Encrypted field is not valid hex" : "Encrypted content must be a hex-encoded E2EE field"
        case .invalidPlaintext: "Decrypted content is not valid UTF-8"
        case .mixedHeaders: "The request mixes the headers of different E2EE dialects"
        case .invalidPayloadModel: "E2EE v2 requires a string top-level model"
        case .unsupportedEndpoint:
            self.family == .dv ? "E2EE is only supported on /v1/chat/completions" : "E2EE is not defined for this endpoint"
        case .invalidBody: "An E2EE request body must be a JSON object with its encrypted fields where the dialect puts them"
        case .unsealableAnswer: "The upstream answer could not be encrypted for the client"
        case .unsealedParameter(let name):
            "Parameter '\(name)' is not available under E2EE: the answer field it asks for is not encrypted"
        case .tooManyFields:
            "An E2EE request may carry at most \(E2EERequestOpener.maxEncryptedFields) encrypted fields"
        }
    }

    package var description: String { "\(self.type): \(self.message)" }

    package static func headerMissing(_ family: Family) -> Self { Self(.headerMissing, family) }
    package static func invalidSigningAlgo(_ family: Family) -> Self { Self(.invalidSigningAlgo, family) }
    package static func invalidPublicKey(_ family: Family) -> Self { Self(.invalidPublicKey, family) }
    package static func modelKeyMismatch(_ family: Family) -> Self { Self(.modelKeyMismatch, family) }
    package static func invalidVersion(_ family: Family) -> Self { Self(.invalidVersion, family) }
    package static func invalidNonce(_ family: Family) -> Self { Self(.invalidNonce, family) }
    package static func replayDetected(_ family: Family) -> Self { Self(.replayDetected, family) }
    package static func replayCapacity(_ family: Family) -> Self { Self(.replayCapacity, family) }
    package static func invalidTimestamp(_ family: Family) -> Self { Self(.invalidTimestamp, family) }
    package static func decryptionFailed(_ family: Family) -> Self { Self(.decryptionFailed, family) }
    package static func malformedField(_ family: Family) -> Self { Self(.malformedField, family) }
    package static func invalidPlaintext(_ family: Family) -> Self { Self(.invalidPlaintext, family) }
    package static func mixedHeaders(_ family: Family) -> Self { Self(.mixedHeaders, family) }
    package static func invalidPayloadModel(_ family: Family) -> Self { Self(.invalidPayloadModel, family) }
    package static func unsupportedEndpoint(_ family: Family) -> Self { Self(.unsupportedEndpoint, family) }
    package static func invalidBody(_ family: Family) -> Self { Self(.invalidBody, family) }
    package static func unsealableAnswer(_ family: Family) -> Self { Self(.unsealableAnswer, family) }
    /// `name` is one of the proxy's own parameter names (E2EEParameterGuard), never a value from the request.
    static func unsealedParameter(_ name: String, _ family: Family) -> Self { Self(.unsealedParameter(name), family) }
    package static func tooManyFields(_ family: Family) -> Self { Self(.tooManyFields, family) }
}
