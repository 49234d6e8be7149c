import Logging
import NIOCore
import SigningCore

/// `GET /v1/signature/{chat_id}` (docs/API.md, Signatures), served on the fast path.
struct SignatureRoute: Sendable {
    let authenticator: BearerAuthenticator
    let notary: ExchangeNotary
    let metrics: ProxyMetrics

    /// The JSON answer for `chatID`.
    /// - Parameters:
    ///   - algorithm: the `signing_algo` query value; `nil` means ecdsa.
    /// - Throws: 401 before anything else, then 404 for an unknown id (even with a bad algorithm),
    ///   then 400 for an algorithm other than `ecdsa` or `ed25519`.
    func answer(chatID: String, algorithm name: String?, authorization: String?, logger: Logger) throws(OpenAIError) -> ByteBuffer {
        try authenticator.authenticate(authorization: authorization)
        metrics.increment(.signatureLookups)
        guard let record = notary.lookup(chatID) else { throw OpenAIError.chatNotFound }
        guard let algorithm = SignatureAlgorithm(rawValue: name ?? "ecdsa") else { throw OpenAIError.invalidSigningAlgo }
        // With SIGNING_MODE=lazy the first lookup for this algorithm signs here.
        let signature = try notary.signature(algorithm, of: record, chatID: chatID, logger: logger)
        return InlineProof.recordJSON(
            text: notary.text(of: record), signature: signature, address: notary.signer.keys.signingAddress(algorithm),
            algorithm: algorithm)
    }
}
