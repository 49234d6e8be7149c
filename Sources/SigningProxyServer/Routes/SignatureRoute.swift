import Logging
import NIOCore
import SigningCore

/// `GET /v1/signature/{chat_id}` (docs/API.md, Signatures), served on the fast path.
struct SignatureRoute: Sendable {
    let authenticator: BearerAuthenticator
    let notary: ExchangeNotary
    let metrics: ProxyMetrics

    /// An answer now, or one that waits for the shared store.
    enum Answer {
        case now(Result<ByteBuffer, OpenAIError>)
        case later(EventLoopFuture<Result<ByteBuffer, OpenAIError>>)
    }

    /// The JSON answer for `chatID`: from this replica's memory, else (with a shared store) from Redis, answered on
    /// `eventLoop` within the lookup wait (docs/API.md, "Shared receipt store").
    /// - Parameters:
    ///   - algorithm: the `signing_algo` query value; `nil` means ecdsa.
    /// - Returns: 401 before anything else, then 404 for an unknown id (even with a bad algorithm), then 400 for an
    ///   algorithm other than `ecdsa` or `ed25519`.
    func answer(chatID: String, algorithm name: String?, authorization: String?, on eventLoop: any EventLoop, logger: Logger) -> Answer {
        do {
            try authenticator.authenticate(authorization: authorization)
        } catch {
            return .now(.failure(error))
        }
        metrics.increment(.signatureLookups)
        if let record = notary.lookup(chatID) {
            metrics.increment(.signatureLookupLocalHits)
            return .now(Result { () throws(OpenAIError) in try answer(record, chatID: chatID, algorithm: name, logger: logger) })
        }
        guard let shared = notary.shared else {
            metrics.increment(.signatureLookupMisses)
            return .now(.failure(.chatNotFound))
        }
        let id = ChatID(chatID)
        return .later(
            shared.lookup(id, on: eventLoop).map { [self] outcome in
                switch outcome {
                case .found(let record):
                    metrics.increment(.signatureLookupSharedHits)
                    return Result { () throws(OpenAIError) in try answer(record, chatID: chatID, algorithm: name, logger: logger) }
                case .missing, .unavailable:
                    // Published here while Redis was asked (its write may have failed): memory has the last word.
                    if let record = notary.lookup(chatID) {
                        metrics.increment(.signatureLookupLocalHits)
                        return Result { () throws(OpenAIError) in try answer(record, chatID: chatID, algorithm: name, logger: logger) }
                    }
                    metrics.increment(.signatureLookupMisses)
                    return .failure(.chatNotFound)
                }
            })
    }

    /// The JSON answer for `chatID`, from this replica's memory only.
    /// - Throws: as ``answer(chatID:algorithm:authorization:on:logger:)`` answers.
    func answer(chatID: String, algorithm name: String?, authorization: String?, logger: Logger) throws(OpenAIError) -> ByteBuffer {
        try authenticator.authenticate(authorization: authorization)
        metrics.increment(.signatureLookups)
        guard let record = notary.lookup(chatID) else {
            metrics.increment(.signatureLookupMisses)
            throw OpenAIError.chatNotFound
        }
        metrics.increment(.signatureLookupLocalHits)
        return try answer(record, chatID: chatID, algorithm: name, logger: logger)
    }

    private func answer(_ record: SignatureRecord, chatID: String, algorithm name: String?, logger: Logger) throws(OpenAIError) -> ByteBuffer {
        guard let algorithm = SignatureAlgorithm(rawValue: name ?? "ecdsa") else { throw OpenAIError.invalidSigningAlgo }
        // With SIGNING_MODE=lazy the first lookup for this algorithm signs here (a shared record is signed already).
        let signature = try notary.signature(algorithm, of: record, chatID: chatID, logger: logger)
        return InlineProof.recordJSON(
            text: notary.text(of: record), signature: signature, address: notary.signer.keys.signingAddress(algorithm),
            algorithm: algorithm)
    }
}
