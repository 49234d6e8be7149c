import Foundation
import SigningContract
import SigningProxyVerifier

/// `verify chat --e2ee`: the model key from a freshly fetched attestation report, the prompt sealed to it in the
/// chosen dialect, the answer opened, and the exchange verified over the bytes on the wire as `verify chat` does.
struct EncryptedChatVerification {
    let verification: ExchangeVerification

    func run(
        dialect: EncryptedChat.Dialect, algorithm: EncryptedChat.Algorithm, model: String, prompt: String, maxTokens: Int,
        stream: Bool
    ) async throws -> VerificationReport {
        let client = verification.client
        let keyAlgorithm: SignatureAlgorithm = algorithm == .ecdsa ? .ecdsa : .ed25519
        let what = "\(dialect.rawValue) \(Self.suiteName(dialect, algorithm))"
        // The report the key comes from: the one a client fetches before it encrypts; the key is then tied to the
        // signer whose fresh report the exchange's own verification binds (e2ee.model-key).
        let nonce = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let lookup = try await client.attestation(algorithm: keyAlgorithm, nonce: nonce, signingAddress: nil, tls: client.http.isTLS)
        guard lookup.status == .ok else {
            return Self.failure(
                "e2ee.model-key",
                "attestation report (\(keyAlgorithm.rawValue)) answered \(lookup.status.code): \(ExchangeClient.excerpt(lookup.body)); "
                    + "no model key to encrypt to")
        }
        guard let key = EncryptedChat.modelKey(inAttestation: lookup.body, dialect: dialect, algorithm: algorithm) else {
            let field = dialect == .aci ? "an e2ee_public_keys entry for \(Self.suiteName(dialect, algorithm))" : "a signing_public_key"
            return Self.failure("e2ee.model-key", "the \(keyAlgorithm.rawValue) attestation report has no \(field)")
        }
        let chat: EncryptedChat
        let request: [UInt8]
        do {
            chat = try EncryptedChat(dialect: dialect, algorithm: algorithm, model: model, modelKey: key)
            request = try chat.request(prompt: prompt, maxTokens: maxTokens, stream: stream)
        } catch {
            return Self.failure("e2ee.request", error.description)
        }
        let clear = !prompt.isEmpty && request.contains(Array(prompt.utf8))
        let head = VerificationReport(checks: [
            .init(
                id: "e2ee.request", status: clear ? .fail : .pass,
                detail: clear
                    ? "the prompt appears in the clear in the request body"
                    : "prompt sealed (\(what)) to the model key \(Self.short(key)) of the \(keyAlgorithm.rawValue) report; "
                        + "headers \(chat.headers.map(\.name).joined(separator: ", "))")
        ])
        let added = ExchangeVerification.Extension(
            headers: chat.headers.map { ($0.name, $0.value) },
            inspect: { exchange in [Self.open(exchange, chat: chat, stream: stream)] },
            signer: (
                keyAlgorithm,
                { address in
                    chat.isModelKey(ofSigningAddress: address)
                        ? .init(
                            id: "e2ee.model-key", status: .pass,
                            detail: "the key the prompt was sealed to is the \(keyAlgorithm.rawValue) signing key \(address)"
                                + (dialect == .aci && algorithm == .ed25519 ? " (its X25519 form)" : ""))
                        : .init(
                            id: "e2ee.model-key", status: .fail,
                            detail: "the key the prompt was sealed to (\(Self.short(key))) is not the \(keyAlgorithm.rawValue) signing key \(address)")
                }
            ))
        let exchange = try await verification.run(
            path: SignedRoute.chatCompletions.path, route: .chatCompletions, request: request, expectedModel: model,
            extension: added)
        return head.appending(exchange)
    }

    /// `e2ee.answer`: every content field of the answer opens for this request; the plaintext is the detail.
    private static func open(_ exchange: ExchangeClient.Exchange, chat: EncryptedChat, stream: Bool) -> VerificationReport.Check {
        do {
            let fields = stream ? try chat.openStream(exchange.response) : try chat.openResponse(exchange.response)
            guard !fields.isEmpty else {
                return .init(id: "e2ee.answer", status: .fail, detail: "the answer carries no sealed content field")
            }
            let applied = exchange.headers.first { $0.name.lowercased() == "x-e2ee-applied" }?.value
            var detail = "\(fields.count) sealed field\(fields.count == 1 ? "" : "s") opened"
            if let applied { detail += " (X-E2EE-Applied: \(applied))" }
            detail += "; the answer: \"\(EncryptedChat.text(of: fields))\""
            let reasoning = EncryptedChat.text(of: fields, name: "reasoning_content") + EncryptedChat.text(of: fields, name: "reasoning")
            if !reasoning.isEmpty { detail += "; reasoning: \"\(reasoning)\"" }
            return .init(id: "e2ee.answer", status: .pass, detail: detail)
        } catch {
            return .init(id: "e2ee.answer", status: .fail, detail: error.description)
        }
    }

    private static func suiteName(_ dialect: EncryptedChat.Dialect, _ algorithm: EncryptedChat.Algorithm) -> String {
        switch (dialect, algorithm) {
        case (.aci, .ecdsa): "secp256k1"
        case (.aci, .ed25519): "x25519"
        case (_, let algorithm): algorithm.rawValue
        }
    }

    private static func short(_ key: String) -> String {
        key.count > 20 ? "\(key.prefix(12))…\(key.suffix(8))" : key
    }

    private static func failure(_ id: String, _ detail: String) -> VerificationReport {
        VerificationReport(checks: [.init(id: id, status: .fail, detail: detail)])
    }
}
