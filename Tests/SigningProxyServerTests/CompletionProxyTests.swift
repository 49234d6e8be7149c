import AsyncHTTPClient
import Crypto
import Foundation
import MockVLLM
import NIOCore
import NIOHTTP1
import SigningCore
import SigningCrypto
import SigningProxyServer
import Testing

/// The 141-byte request of the reference vector (the `chat-stream` request in `Fixtures/vllm/NOTICE.md`).
let vectorRequest = Array(
    #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"seed":1}"#
        .utf8)

func sha256Hex(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }

/// The chat id of the first SSE event, read independently of the proxy's scanner.
func firstChatID(_ body: [UInt8]) throws -> String {
    let text = String(decoding: body, as: UTF8.self)
    let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("data: {") })
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
    return try #require(object["id"] as? String)
}

/// Checks a stored record the way a client would: text, EIP-191 recovery, ed25519.
func expectSigned(
    _ harness: ProxyHarness, chatID: String, request: [UInt8], response: [UInt8]
) async throws {
    let answer = try await harness.signature(chatID)
    #expect(answer.status == 200)
    let record = try answer.json()
    let text = try #require(record["text"] as? String)
    #expect(text == "\(sha256Hex(request)):\(sha256Hex(response))")
    let signature = try #require(record["signature"] as? String)
    let recovered = try PersonalSign.recoverAddress(message: Array(text.utf8), signature: signature)
    #expect(recovered.checksummed == record["signing_address"] as? String)
    #expect(recovered == harness.proxy.keys.ecdsaAddress)

    let ed = try await harness.signature(chatID, algorithm: "ed25519").json()
    let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: Hex.decode(#require(ed["signing_address"] as? String)))
    #expect(publicKey.isValidSignature(try Hex.decode(#require(ed["signature"] as? String)), for: Array(text.utf8)))
    #expect(ed["signing_algo"] as? String == "ed25519")
}

@Suite("Completion proxy over loopback")
struct CompletionProxyTests {
    static let streamFixtures = [
        ("chat-stream", "/v1/chat/completions", "83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538"),
        ("chat-stream-n2", "/v1/chat/completions", "81cb7bae90ba75006f9b74a8ca088df69589f936c1897755ea6428157018796c"),
        ("completion-stream", "/v1/completions", "0dae39fff9572386b3480178d424b3a3c54ff2b42bc00b510a84eac0b8d25769"),
    ]

    @Test("recorded vLLM streams pass through byte for byte and are signed", arguments: streamFixtures)
    func fixtureStreams(name: String, path: String, hash: String) async throws {
        let body = try Fixtures.bytes("vllm/\(name).body")
        // Splits inside `data: `, inside a multi-byte sequence and between events.
        let boundaries = [3, 7, 100, 101, 102, body.count / 2, body.count - 9, body.count - 1]
        let mock = MockVLLMConfiguration(replay: MockVLLMReplay(body: body, chunkBoundaries: boundaries))
        try await ProxyHarness.run(mock: mock) { harness in
            let answer = try await harness.send(.POST, path, body: vectorRequest)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "content-type") == "text/event-stream; charset=utf-8")
            #expect(answer.body == body)
            #expect(sha256Hex(answer.body) == hash)
            try await expectSigned(harness, chatID: firstChatID(body), request: vectorRequest, response: body)
        }
    }

    @Test("recorded non-streaming answers pass through byte for byte and are signed", arguments: [
        ("chat", "chatcmpl-ba330a18951aac39", "a211b2cc10987b61466c2cc3f275d01c593912f446077d74e0c91a3669306405"),
        ("completion", "cmpl-bdd4666cc8941f56", "c6d8a0fa6226785a46923e9851d70d165ee48a5c9230fb1181c2973aa2abc005"),
    ])
    func fixtureJSON(name: String, chatID: String, hash: String) async throws {
        let body = try Fixtures.bytes("vllm/\(name).body")
        let mock = MockVLLMConfiguration(replay: MockVLLMReplay(body: body, contentType: "application/json"))
        try await ProxyHarness.run(mock: mock) { harness in
            let request = Array(#"{ "model": "tiny", "prompt": "h\u00e9llo" }"#.utf8)
            let answer = try await harness.send(.POST, "/v1/completions", body: request)
            #expect(answer.status == 200)
            #expect(answer.headers.first(name: "content-type") == "application/json")
            #expect(sha256Hex(answer.body) == hash)
            try await expectSigned(harness, chatID: chatID, request: request, response: body)
        }
    }

    @Test("the reference vector: seeded request and recorded stream give the documented signed text")
    func signedTextVector() async throws {
        let body = try Fixtures.bytes("vllm/chat-stream.body")
        try await ProxyHarness.run(mock: MockVLLMConfiguration(replay: MockVLLMReplay(body: body))) { harness in
            _ = try await harness.send(.POST, "/v1/chat/completions", body: vectorRequest)
            let record = try await harness.signature("chatcmpl-bd7f0789f54390b4").json()
            #expect(
                record["text"] as? String
                    == "5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538"
            )
        }
    }

    @Test("generated streams, with and without split writes, verify from their exact bytes", arguments: [false, true])
    func generatedStreams(splitWrites: Bool) async throws {
        try await ProxyHarness.run(mock: MockVLLMConfiguration(tokens: 16, splitWrites: splitWrites)) { harness in
            let request = Array(
                #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}"#
                    .utf8)
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: request)
            #expect(answer.status == 200)
            #expect(answer.text.hasSuffix("data: [DONE]\n\n"))
            try await expectSigned(harness, chatID: firstChatID(answer.body), request: request, response: answer.body)
            // Only the body and the two fixed headers reach vLLM.
            let seen = harness.stats.snapshot
            #expect(seen.lastRequestBodyBytes == request)
            #expect(seen.lastRequestHeaders?[.authorization] == nil)
        }
    }

    @Test("a second completion with an already signed id stays unsigned; the first record is kept")
    func duplicateChatID() async throws {
        let body = try Fixtures.bytes("vllm/chat.body")
        let mock = MockVLLMConfiguration(replay: MockVLLMReplay(body: body, contentType: "application/json"))
        try await ProxyHarness.run(mock: mock) { harness in
            let first = Array(#"{"model":"tiny","n":1}"#.utf8)
            let second = Array(#"{"model":"tiny","n":2}"#.utf8)
            _ = try await harness.send(.POST, "/v1/chat/completions", body: first)
            _ = try await harness.send(.POST, "/v1/chat/completions", body: second)
            try await expectSigned(harness, chatID: "chatcmpl-ba330a18951aac39", request: first, response: body)
            #expect(harness.proxy.metrics.value(.duplicateChatIDs) == 1)
        }
    }

    @Test("X-Request-Hash replaces the request hash when valid and is refused when not")
    func requestHashOverride() async throws {
        try await ProxyHarness.run { harness in
            let custom = String(repeating: "Ab", count: 32)
            var headers = [("Authorization", "Bearer test-token"), ("X-Request-Hash", "  \(custom) ")]
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(#"{"model":"tiny"}"#.utf8), headers: headers)
            #expect(answer.status == 200)
            let record = try await harness.signature(try #require(try answer.json()["id"] as? String)).json()
            #expect((record["text"] as? String)?.hasPrefix(custom.lowercased() + ":") == true)

            for bad in ["custom-hash-from-client", String(repeating: "a", count: 63), String(repeating: "g", count: 64)] {
                headers = [("Authorization", "Bearer test-token"), ("X-Request-Hash", bad)]
                let refused = try await harness.send(.POST, "/v1/chat/completions", body: Array("{}".utf8), headers: headers)
                #expect(refused.status == 400)
                #expect(refused.text.contains("X-Request-Hash must be 64 hex characters"))
            }
        }
    }
}
