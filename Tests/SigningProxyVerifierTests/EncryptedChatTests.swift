import E2EE
import Foundation
import SigningCrypto
import SigningProxyVerifier
import Testing

/// EncryptedChat against the proxy's own side of each dialect (E2EEExchange): the request it builds opens to the
/// prompt, and the answers sealed for it open, whole and event by event. Python's independent client checks the
/// same dialects against a running proxy (interop/test_e2ee_proxy.py).
@Suite("EncryptedChat: the E2EE client for agents")
struct EncryptedChatTests {
    /// The proxy's keys and the report that publishes them.
    struct Server {
        let ecdsa = Secp256k1PrivateKey.random()
        let seed = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let keys: E2EEServerKeys
        let keyset: [ACIKey]
        let report: [UInt8]
        let ecdsaAddress: String
        let ed25519Public: String

        init() throws {
            self.keys = try E2EEServerKeys(ecdsa: ecdsa, ed25519Seed: seed)
            let x25519 = try Ed25519Montgomery.x25519SecretKey(ed25519Seed: seed)
            self.keyset = [try ACIKey(keyID: "x", x25519Secret: x25519), ACIKey(keyID: "s", secp256k1: ecdsa)]
            self.ecdsaAddress = EthereumAddress(publicKey: ecdsa.publicKey).checksummed
            self.ed25519Public = Hex.encode(try Ed25519Montgomery.ed25519PublicKey(seed: seed))
            let entries = keyset.map { ["key_id": $0.keyID, "algo": $0.suite.rawValue, "public_key": $0.publicKeyHex] }
            let ecdsaEntry: [String: Any] = [
                "signing_algo": "ecdsa", "signing_address": ecdsaAddress, "signing_public_key": Hex.encode(ecdsa.publicKey.xy),
                "e2ee_public_keys": entries,
            ]
            let ed25519Entry: [String: Any] = [
                "signing_algo": "ed25519", "signing_address": ed25519Public, "signing_public_key": ed25519Public,
                "e2ee_public_keys": entries,
            ]
            var top = ecdsaEntry
            top["all_attestations"] = [ecdsaEntry, ed25519Entry]
            self.report = Array(try JSONSerialization.data(withJSONObject: top))
        }

        func address(_ algorithm: EncryptedChat.Algorithm) -> String {
            algorithm == .ecdsa ? ecdsaAddress : ed25519Public
        }

        /// The proxy's side of one request: headers checked, fields opened.
        func exchange(_ chat: EncryptedChat) throws -> E2EEExchange {
            let headers = E2EEHeaders(chat.headers.map { ($0.name, $0.value) })
            let now = Int64(Date().timeIntervalSince1970)
            return try #require(try E2EEExchange(headers: headers, endpoint: .chatCompletions, keys: keys, keyset: keyset, now: now))
        }
    }

    static let cases: [(EncryptedChat.Dialect, EncryptedChat.Algorithm)] = EncryptedChat.Dialect.allCases.flatMap { dialect in
        EncryptedChat.Algorithm.allCases.map { (dialect, $0) }
    }

    static let prompt = "Secret: caf\u{E9} \u{4E16}\u{754C} \u{1F600} \"quoted\"\nline two"

    @Test("the request opens to the prompt on the proxy's side; the sealed answer opens to the text, with reasoning",
          arguments: cases)
    func nonStreamed(dialect: EncryptedChat.Dialect, algorithm: EncryptedChat.Algorithm) throws {
        let server = try Server()
        let key = try #require(EncryptedChat.modelKey(inAttestation: server.report, dialect: dialect, algorithm: algorithm))
        let chat = try EncryptedChat(dialect: dialect, algorithm: algorithm, model: "tiny", modelKey: key)
        #expect(chat.isModelKey(ofSigningAddress: server.address(algorithm)))
        let request = try chat.request(prompt: Self.prompt, maxTokens: 8)
        #expect(!String(decoding: request, as: UTF8.self).contains("Secret"))
        var exchange = try server.exchange(chat)
        let forwarded = try JSONSerialization.jsonObject(with: Data(try exchange.openRequest(request))) as? [String: Any]
        let messages = try #require(forwarded?["messages"] as? [[String: Any]])
        #expect(messages.first?["content"] as? String == Self.prompt)

        let answer = #"{"id":"chatcmpl-7","object":"chat.completion","model":"tiny","choices":[{"index":0,"message":{"role":"assistant","content":"The answer \u00e9","reasoning_content":"Thinking."},"finish_reason":"stop"}]}"#
        let sealed = try exchange.sealResponse(Array(answer.utf8))
        #expect(!String(decoding: sealed, as: UTF8.self).contains("answer"))
        let fields = try chat.openResponse(sealed)
        #expect(EncryptedChat.text(of: fields) == "The answer \u{E9}")
        #expect(EncryptedChat.text(of: fields, name: "reasoning_content") == "Thinking.")
    }

    @Test("a streamed answer opens whole and event by event", arguments: cases)
    func streamed(dialect: EncryptedChat.Dialect, algorithm: EncryptedChat.Algorithm) throws {
        let server = try Server()
        let key = try #require(EncryptedChat.modelKey(inAttestation: server.report, dialect: dialect, algorithm: algorithm))
        let chat = try EncryptedChat(dialect: dialect, algorithm: algorithm, model: "tiny", modelKey: key)
        var exchange = try server.exchange(chat)
        _ = try exchange.openRequest(try chat.request(prompt: Self.prompt, stream: true))
        let pieces = ["Hel", "lo \u{1F600}", "!"]
        var upstream = #"data: {"id":"chatcmpl-8","object":"chat.completion.chunk","model":"tiny","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"# + "\n\n"
        for piece in pieces {
            upstream += #"data: {"id":"chatcmpl-8","object":"chat.completion.chunk","model":"tiny","choices":[{"index":0,"delta":{"content":"\#(piece)"}}]}"# + "\n\n"
        }
        upstream += "data: [DONE]\n\n"
        var sealer = exchange.streamSealer()
        var sent = try Array(upstream.utf8).withUnsafeBytes { try sealer.consume($0) }
        sent += try sealer.finish()
        #expect(!String(decoding: sent, as: UTF8.self).contains("Hel"))
        #expect(EncryptedChat.text(of: try chat.openStream(sent)) == pieces.joined())
        var joined = ""
        for line in String(decoding: sent, as: UTF8.self).split(separator: "\n") where line.hasPrefix("data: ") {
            joined += EncryptedChat.text(of: try chat.openEvent(String(line.dropFirst(6))))
        }
        #expect(joined == pieces.joined())
    }

    @Test("an answer sealed for another request, or a content field in the clear, does not open")
    func refusals() throws {
        let server = try Server()
        for dialect in EncryptedChat.Dialect.allCases {
            let key = try #require(EncryptedChat.modelKey(inAttestation: server.report, dialect: dialect, algorithm: .ecdsa))
            let chat = try EncryptedChat(dialect: dialect, algorithm: .ecdsa, model: "tiny", modelKey: key)
            let other = try EncryptedChat(dialect: dialect, algorithm: .ecdsa, model: "tiny", modelKey: key)
            var exchange = try server.exchange(other)
            _ = try exchange.openRequest(try other.request(prompt: "x"))
            let answer = #"{"id":"chatcmpl-9","model":"tiny","choices":[{"index":0,"message":{"content":"not yours"}}]}"#
            let sealed = try exchange.sealResponse(Array(answer.utf8))
            #expect(throws: EncryptedChat.Failure.self) { try chat.openResponse(sealed) }
            #expect(throws: EncryptedChat.Failure.self) { try chat.openResponse(Array(answer.utf8)) }
            #expect(throws: EncryptedChat.Failure.self) { try chat.openResponse(Array("not json".utf8)) }
        }
    }

    @Test("model keys: taken from the report per dialect, tied to their signer only, refused when not a key")
    func modelKeys() throws {
        let server = try Server()
        let other = try Server()
        #expect(EncryptedChat.modelKey(inAttestation: server.report, dialect: .dv, algorithm: .ecdsa) == Hex.encode(server.ecdsa.publicKey.xy))
        #expect(EncryptedChat.modelKey(inAttestation: server.report, dialect: .near, algorithm: .ed25519) == server.ed25519Public)
        #expect(EncryptedChat.modelKey(inAttestation: server.report, dialect: .aci, algorithm: .ecdsa) == server.keyset[1].publicKeyHex)
        #expect(EncryptedChat.modelKey(inAttestation: server.report, dialect: .aci, algorithm: .ed25519) == server.keyset[0].publicKeyHex)
        let noKeyset = Array(#"{"signing_algo":"ecdsa","signing_public_key":"00"}"#.utf8)
        #expect(EncryptedChat.modelKey(inAttestation: noKeyset, dialect: .aci, algorithm: .ed25519) == nil)
        #expect(EncryptedChat.modelKey(inAttestation: Array("[]".utf8), dialect: .dv, algorithm: .ecdsa) == nil)
        for (dialect, algorithm) in Self.cases {
            let key = try #require(EncryptedChat.modelKey(inAttestation: server.report, dialect: dialect, algorithm: algorithm))
            let chat = try EncryptedChat(dialect: dialect, algorithm: algorithm, model: "tiny", modelKey: key)
            #expect(chat.isModelKey(ofSigningAddress: server.address(algorithm)))
            #expect(!chat.isModelKey(ofSigningAddress: other.address(algorithm)))
        }
        #expect(throws: EncryptedChat.Failure.self) {
            try EncryptedChat(dialect: .dv, algorithm: .ecdsa, model: "tiny", modelKey: "0102")
        }
        #expect(throws: EncryptedChat.Failure.self) {
            try EncryptedChat(dialect: .aci, algorithm: .ed25519, model: "tiny", modelKey: server.keyset[0].publicKeyHex, version: 1)
        }
    }

    @Test("headers: DV v2 binds a nonce and the time, NEAR v2 its version, ACI v2 no signing algorithm")
    func headers() throws {
        let server = try Server()
        func names(_ dialect: EncryptedChat.Dialect, _ version: Int = 2) throws -> [String: String] {
            let key = try #require(EncryptedChat.modelKey(inAttestation: server.report, dialect: dialect, algorithm: .ed25519))
            let chat = try EncryptedChat(dialect: dialect, algorithm: .ed25519, model: "tiny", modelKey: key, version: version)
            return Dictionary(uniqueKeysWithValues: chat.headers.map { ($0.name, $0.value) })
        }
        let dv = try names(.dv)
        #expect(dv["X-E2EE-Version"] == "2" && dv["X-Signing-Algo"] == "ed25519")
        #expect((dv["X-E2EE-Nonce"]?.count ?? 0) >= 16 && dv["X-E2EE-Timestamp"] != nil)
        let near = try names(.near)
        #expect(near["X-Encryption-Version"] == "2" && near["X-E2EE-Nonce"] == nil)
        let aci = try names(.aci)
        #expect(aci["X-Signing-Algo"] == nil && aci["X-E2EE-Nonce"]?.count == 64 && aci["X-E2EE-Version"] == "2")
        #expect(try names(.dv, 1)["X-E2EE-Nonce"] == nil)
    }
}
