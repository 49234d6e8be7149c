import E2EE
import SigningCrypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A chat completion encrypted end to end for the attested model key, in one of the dialects signing-proxy accepts
/// (docs/E2EE.md): the request to send, its headers, and the answer opened, streamed events included.
///
/// The library never touches the network. Fetch an attestation report (`GET /v1/attestation/report`) and verify
/// it, take the model key from it, send what this builds, and open what comes back:
///
/// ```swift
/// guard let key = EncryptedChat.modelKey(inAttestation: reportJSON, dialect: .dv, algorithm: .ecdsa) else { … }
/// let chat = try EncryptedChat(dialect: .dv, algorithm: .ecdsa, model: "my-model", modelKey: key)
/// let body = try chat.request(prompt: "Hello", stream: true)
/// // POST body to /v1/chat/completions with chat.headers, keep the exact bytes received, then:
/// let answer = EncryptedChat.text(of: try chat.openStream(received))
/// // The signature covers sha256(body):sha256(received), the ciphertext bytes: ResponseVerifier.verify(...)
/// ```
///
/// Each value is one request: DV v2 and ACI v2 bind a single-use nonce and a timestamp, so build a new one per
/// request. The client's key pair is generated here and never leaves the value.
public struct EncryptedChat: Sendable {
    /// Whose dialect: DV (the Python proxy's), NEAR (its proxy's), ACI v2 (the ACI gateway's).
    public enum Dialect: String, Sendable, Hashable, CaseIterable {
        case dv
        case near
        case aci
    }

    /// The suite, named by the signing algorithm whose key it uses: `ecdsa` (secp256k1) or `ed25519` (its
    /// X25519 form). For ACI, `ecdsa` selects the secp256k1 suite and `ed25519` the x25519 one.
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case ecdsa
        case ed25519
    }

    /// One opened answer field.
    public struct Field: Sendable, Hashable {
        /// The choice's `index`.
        public var choice: Int
        /// `content`, `reasoning_content` or `reasoning`.
        public var name: String
        /// The plaintext.
        public var text: String
    }

    /// Why a request could not be built or an answer opened.
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        private enum Code: Hashable, Sendable {
            case modelKey
            case version
            case notJSON
            case field
        }

        private let code: Code
        private let detail: String

        private init(_ code: Code, _ detail: String) {
            self.code = code
            self.detail = detail
        }

        public var description: String { detail }

        static func modelKey(_ detail: String) -> Self { Self(.modelKey, detail) }
        static func version(_ detail: String) -> Self { Self(.version, detail) }
        static func notJSON(_ detail: String) -> Self { Self(.notJSON, detail) }
        static func field(_ detail: String) -> Self { Self(.field, detail) }
    }

    public let dialect: Dialect
    public let algorithm: Algorithm
    /// The request's `model`; DV v2 and ACI bind it in every request field.
    public let model: String
    /// The `X-Model-Pub-Key` sent: the key request fields are sealed to.
    public let modelKey: String
    /// DV and NEAR: 1 or 2; ACI: 2.
    public let version: Int
    private let client: E2EEClient

    /// - Parameters:
    ///   - modelKey: DV, NEAR: the report's `signing_public_key` for `algorithm`; ACI: the `public_key` of the
    ///     report's `e2ee_public_keys` entry of the suite (``modelKey(inAttestation:dialect:algorithm:)``).
    ///   - version: DV and NEAR 1 or 2 (default 2: DV v2 binds a nonce and the time); ACI only 2.
    ///   - now: the timestamp DV v2 and ACI send (their servers accept ±300 s).
    public init(
        dialect: Dialect, algorithm: Algorithm, model: String, modelKey: String, version: Int = 2, now: Date = Date()
    ) throws(Failure) {
        guard version == 2 || (version == 1 && dialect != .aci) else {
            throw .version("\(dialect.rawValue) has no E2EE version \(version)")
        }
        let timestamp = Int64(now.timeIntervalSince1970)
        let key = modelKey.trimmingASCIIWhitespace()
        do {
            switch (dialect, algorithm) {
            case (.aci, _):
                let suite: ACIKey.Suite = algorithm == .ecdsa ? .secp256k1 : .x25519
                self.client = try E2EEClient(
                    aci: suite, serverPublicKeyHex: key, clientSecret: .random(suite.cipher.curve),
                    nonce: Self.randomHex(32), timestamp: timestamp)
            case (.dv, _), (.near, _):
                let form: E2EEClient.Dialect = dialect == .dv ? .dv(version: version) : .near(version: version)
                let v2 = dialect == .dv && version == 2
                self.client = try E2EEClient(
                    dialect: form, algo: algorithm == .ecdsa ? .ecdsa : .ed25519, serverPublicKeyHex: key,
                    clientSecp256k1: algorithm == .ecdsa ? Secp256k1PrivateKey.random() : nil,
                    clientEd25519Seed: algorithm == .ed25519 ? (0..<32).map { _ in UInt8.random(in: 0...255) } : nil,
                    // DV's own clients send "n" and more characters; 16 at least.
                    nonce: v2 ? "n" + Self.randomHex(16) : nil, timestamp: v2 ? timestamp : nil)
            }
        } catch {
            throw .modelKey("the model key is not a \(algorithm.rawValue) key for \(dialect.rawValue): \(error)")
        }
        self.dialect = dialect
        self.algorithm = algorithm
        self.model = model
        self.modelKey = key
        self.version = version
    }

    /// The E2EE request headers (`Authorization` and `Content-Type` are the caller's).
    public var headers: [(name: String, value: String)] {
        client.headers.map { (name: $0.0, value: $0.1) }
    }

    /// A `/v1/chat/completions` body with one user message whose content is sealed to the model key.
    public func request(prompt: String, maxTokens: Int? = nil, stream: Bool = false) throws(Failure) -> [UInt8] {
        struct Message: Encodable {
            var role: String
            var content: String
        }
        struct Body: Encodable {
            var model: String
            var messages: [Message]
            var max_tokens: Int?
            var stream: Bool?
        }
        let sealed: String
        do {
            sealed = try client.sealRequestField(prompt, aad: requestAAD(message: 0))
        } catch {
            throw .modelKey("cannot seal the prompt to the model key: \(error)")
        }
        let body = Body(
            model: model, messages: [Message(role: "user", content: sealed)], max_tokens: maxTokens,
            stream: stream ? true : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(body) else { throw .notJSON("the request could not be encoded") }
        return Array(data)
    }

    /// Opens a non-streamed answer: every `choices[].message` content field.
    public func openResponse(_ body: some Collection<UInt8>) throws(Failure) -> [Field] {
        try open(event: Data(body), holder: "message")
    }

    /// Opens one streamed event's `data` (a chat completion chunk); `[DONE]` and events without choices give none.
    public func openEvent(_ data: String) throws(Failure) -> [Field] {
        let trimmed = data.trimmingASCIIWhitespace()
        guard trimmed != "[DONE]" else { return [] }
        return try open(event: Data(trimmed.utf8), holder: "delta")
    }

    /// Opens every event of a whole SSE answer, in order.
    public func openStream(_ body: some Collection<UInt8>) throws(Failure) -> [Field] {
        var fields: [Field] = []
        for event in ServerSentEvents(body).events {
            fields += try openEvent(event.data)
        }
        return fields
    }

    /// The text of one field across fields (a stream's deltas joined), by default choice 0's `content`.
    public static func text(of fields: [Field], name: String = "content", choice: Int = 0) -> String {
        fields.filter { $0.choice == choice && $0.name == name }.map(\.text).joined()
    }

    /// The model key clients take from an attestation report: DV and NEAR the `signing_public_key` of the entry for
    /// `algorithm` (top level or `all_attestations`); ACI the `public_key` of the `e2ee_public_keys` entry whose `algo`
    /// is the suite's (`secp256k1-aes-256-gcm-hkdf-sha256` for ecdsa, `x25519-aes-256-gcm-hkdf-sha256` for ed25519).
    /// Verify the report first (``ResponseVerifier/verifyAttestation(_:nonce:signingAddress:)``).
    public static func modelKey(inAttestation attestation: some Collection<UInt8>, dialect: Dialect, algorithm: Algorithm) -> String? {
        guard let report = try? JSONDecoder().decode(ReportEntry.self, from: Data(attestation)) else { return nil }
        let entries = [report] + (report.all_attestations ?? [])
        if dialect == .aci {
            let suite = (algorithm == .ecdsa ? ACIKey.Suite.secp256k1 : .x25519).rawValue
            return entries.lazy.compactMap { $0.e2ee_public_keys?.first { $0.algo == suite }?.public_key }.first
        }
        let matching = entries.first { ($0.signing_algo ?? algorithm.rawValue).lowercased() == algorithm.rawValue }
        return matching?.signing_public_key
    }

    /// Whether ``modelKey`` is the signing key with this `signing_address` (as a signature record or an attestation
    /// report states it), so that the report binding that address binds the key the prompt was sealed to: the
    /// secp256k1 key's Ethereum address (ecdsa, ACI secp256k1), the ed25519 key itself, or its X25519 form (ACI x25519).
    public func isModelKey(ofSigningAddress address: String) -> Bool {
        let address = address.trimmingASCIIWhitespace()
        guard let key = HexFormatting.decode(modelKey) else { return false }
        switch (dialect, algorithm) {
        case (_, .ecdsa):
            let sec1 = key.count == 64 ? [0x04] + key : key
            guard let point = try? Secp256k1PublicKey(sec1: sec1), let claimed = try? EthereumAddress(string: address) else {
                return false
            }
            return EthereumAddress(publicKey: point) == claimed
        case (.aci, .ed25519):
            guard let ed25519 = HexFormatting.decode(address), let x25519 = try? Ed25519Montgomery.x25519PublicKey(ed25519: ed25519)
            else { return false }
            return x25519 == key
        case (_, .ed25519):
            return HexFormatting.decode(address) == key
        }
    }

    /// What ``modelKey(inAttestation:dialect:algorithm:)`` reads of a report entry.
    private struct ReportEntry: Decodable {
        struct KeyEntry: Decodable {
            var algo: String?
            var public_key: String?
        }
        var signing_algo: String?
        var signing_public_key: String?
        var e2ee_public_keys: [KeyEntry]?
        var all_attestations: [ReportEntry]?
    }

    // MARK: - Opening

    private struct Chunk: Decodable {
        var id: String?
        var model: String?
        var choices: [Choice]?
    }

    private struct Choice: Decodable {
        var index: Int?
        var message: Fields?
        var delta: Fields?
    }

    /// The content-bearing fields of a message or delta; a null, missing or non-string value is no field.
    private struct Fields: Decodable {
        var values: [(name: String, value: String)] = []

        private struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        static let names = ["content", "reasoning_content", "reasoning"]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for name in Self.names {
                if let value = try? container.decodeIfPresent(String.self, forKey: Key(stringValue: name)) {
                    values.append((name, value))
                }
            }
        }
    }

    private func open(event: Data, holder: String) throws(Failure) -> [Field] {
        guard let chunk = try? JSONDecoder().decode(Chunk.self, from: event) else {
            throw .notJSON("the answer is not a chat completion JSON object")
        }
        var fields: [Field] = []
        for (position, choice) in (chunk.choices ?? []).enumerated() {
            let index = choice.index ?? position
            for (name, value) in (holder == "delta" ? choice.delta : choice.message)?.values ?? [] where !value.isEmpty {
                let aad = responseAAD(id: chunk.id ?? "", answerModel: chunk.model ?? "", choice: index, holder: holder, field: name)
                do {
                    fields.append(Field(choice: index, name: name, text: try client.openResponseField(value, aad: aad)))
                } catch {
                    throw .field("choices[\(index)].\(holder).\(name) does not open with the client key (\(error)): not sealed for this request")
                }
            }
        }
        return fields
    }

    // MARK: - AAD (docs/E2EE.md, "AAD, freshness, replay")

    private func requestAAD(message: Int) -> [UInt8] {
        guard let nonce = client.nonce, let timestamp = client.timestamp else { return [] }
        switch client.dialect {
        case .dv(version: 2):
            return E2EEAAD.dvRequest(
                algo: client.algo, model: model, messageIndex: message, contentIndex: nil, nonce: nonce, timestamp: timestamp)
        case .aci(let suite):
            return E2EEAAD.aciRequest(suite: suite, model: model, field: "messages.\(message).content", nonce: nonce, timestamp: timestamp)
        default:
            return []
        }
    }

    /// DV v2 binds the answer's own `model`; ACI the request's, and the field's path.
    private func responseAAD(id: String, answerModel: String, choice: Int, holder: String, field: String) -> [UInt8] {
        guard let nonce = client.nonce, let timestamp = client.timestamp else { return [] }
        switch client.dialect {
        case .dv(version: 2):
            return E2EEAAD.dvResponse(
                algo: client.algo, model: answerModel, id: id, choice: choice, field: field, nonce: nonce, timestamp: timestamp)
        case .aci(let suite):
            return E2EEAAD.aciResponse(
                suite: suite, model: model, id: id, field: "choices.\(choice).\(holder).\(field)", nonce: nonce, timestamp: timestamp)
        default:
            return []
        }
    }

    private static func randomHex(_ count: Int) -> String {
        HexFormatting.full((0..<count).map { _ in UInt8.random(in: 0...255) })
    }
}
