import Logging
import MockVLLM
import NIOCore
import SigningCore
import Testing

@testable import SigningProxyServer

@Suite("ExchangeNotary: prepare, publish, drop; byte keys; the /v1/signature answer")
struct ExchangeNotaryTests {
    private static let requestHash = "5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84"
    private static let responseHash = "83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538"
    private static let logger = Logger(label: "test")

    private static func makeNotary(
        _ mode: SigningMode, format: SigningTextFormat = .plain, modelName: String = "tiny", seed: String = "notary-tests"
    ) -> ExchangeNotary {
        ExchangeNotary(
            signer: ExchangeSigner(keys: .dev(seed: seed), format: format, modelName: modelName),
            store: SignatureStore(capacity: 100, ttl: .seconds(600)),
            metrics: ProxyMetrics(signingMode: mode),
            mode: mode
        )
    }

    @Test("a prepared record is invisible until published, and signed already in eager mode", arguments: SigningMode.allCases)
    func prepareThenPublish(mode: SigningMode) throws {
        let notary = Self.makeNotary(mode)
        let prepared = try #require(
            notary.prepare(chatID: "chatcmpl-1", requestHash: Self.requestHash, responseHash: Self.responseHash, logger: Self.logger))
        #expect(notary.lookup("chatcmpl-1") == nil)
        #expect(notary.store.count == 0)
        #expect(notary.metrics.value(.signaturesStored) == 0)
        #expect(notary.publish(prepared, logger: Self.logger))
        let stored = try #require(notary.lookup("chatcmpl-1"))
        #expect(stored.isComplete == (mode == .eager))
        #expect(notary.text(of: stored) == "\(Self.requestHash):\(Self.responseHash)")
        #expect(notary.metrics.value(.signaturesStored) == 1)
        #expect(notary.metrics.value(.signaturesDroppedUndelivered) == 0)
    }

    @Test("a dropped record is never stored and is counted; the id stays free")
    func dropped() throws {
        let notary = Self.makeNotary(.eager)
        let prepared = try #require(
            notary.prepare(chatID: "chatcmpl-1", requestHash: Self.requestHash, responseHash: Self.responseHash, logger: Self.logger))
        notary.drop(prepared)
        #expect(notary.lookup("chatcmpl-1") == nil)
        #expect(notary.metrics.value(.signaturesDroppedUndelivered) == 1)
        #expect(notary.metrics.value(.signaturesStored) == 0)
        #expect(notary.metrics.render(storedSignatures: 0).contains("\nsigning_proxy_signatures_dropped_undelivered_total 1\n"))
        // A later, delivered exchange with the same id is signed.
        #expect(notary.record(chatID: "chatcmpl-1", requestHash: Self.responseHash, responseHash: Self.requestHash, logger: Self.logger))
        #expect(notary.lookup("chatcmpl-1")?.responseHash.hex == Self.requestHash)
    }

    @Test("first writer wins at publish; prepare skips an id that is already stored")
    func duplicates() throws {
        let notary = Self.makeNotary(.eager)
        let first = try #require(
            notary.prepare(chatID: "chatcmpl-1", requestHash: Self.requestHash, responseHash: Self.responseHash, logger: Self.logger))
        let second = try #require(
            notary.prepare(chatID: "chatcmpl-1", requestHash: Self.responseHash, responseHash: Self.requestHash, logger: Self.logger))
        // Published in the other order: the first delivered wins, whichever was prepared first.
        #expect(notary.publish(second, logger: Self.logger))
        #expect(!notary.publish(first, logger: Self.logger))
        #expect(notary.lookup("chatcmpl-1")?.requestHash.hex == Self.responseHash)
        #expect(notary.metrics.value(.duplicateChatIDs) == 1)
        #expect(notary.prepare(chatID: "chatcmpl-1", requestHash: Self.requestHash, responseHash: Self.responseHash, logger: Self.logger) == nil)
        #expect(notary.metrics.value(.duplicateChatIDs) == 2)
        #expect(notary.metrics.value(.signaturesStored) == 1)
        #expect(notary.metrics.value(.signaturesUnsigned) == 0)
    }

    @Test("refused before signing: an id over the cap, a hash that is not 64 lowercase hex digits")
    func refused() {
        let notary = Self.makeNotary(.eager)
        let long = String(repeating: "x", count: ExchangeNotary.maxChatIDLength + 1)
        // The cap counts bytes: 128 two-byte characters are 256 bytes, one more is over.
        let longUnicode = String(repeating: "\u{E9}", count: ExchangeNotary.maxChatIDLength / 2 + 1)
        let cases: [(id: String, request: String, response: String)] = [
            (long, Self.requestHash, Self.responseHash),
            (longUnicode, Self.requestHash, Self.responseHash),
            ("chatcmpl-1", Self.requestHash.uppercased(), Self.responseHash),
            ("chatcmpl-1", Self.requestHash, String(Self.responseHash.dropLast())),
            ("chatcmpl-1", "", Self.responseHash),
        ]
        for (id, request, response) in cases {
            #expect(notary.prepare(chatID: id, requestHash: request, responseHash: response, logger: Self.logger) == nil)
        }
        #expect(notary.metrics.value(.signaturesUnsigned) == cases.count)
        #expect(notary.store.count == 0)
        let atCap = String(repeating: "\u{E9}", count: ExchangeNotary.maxChatIDLength / 2)
        #expect(notary.record(chatID: atCap, requestHash: Self.requestHash, responseHash: Self.responseHash, logger: Self.logger))
    }

    @Test("NFC and NFD ids are both signed, and each lookup returns its own record", arguments: SigningMode.allCases)
    func normalisationVariants(mode: SigningMode) throws {
        let notary = Self.makeNotary(mode)
        let route = SignatureRoute(authenticator: BearerAuthenticator(tokens: ["t"]), notary: notary, metrics: notary.metrics)
        let composed = "chatcmpl-caf\u{E9}"
        let decomposed = "chatcmpl-cafe\u{301}"
        #expect(notary.record(chatID: composed, requestHash: Self.requestHash, responseHash: Self.responseHash, logger: Self.logger))
        #expect(notary.record(chatID: decomposed, requestHash: Self.responseHash, responseHash: Self.requestHash, logger: Self.logger))
        #expect(notary.metrics.value(.duplicateChatIDs) == 0)
        #expect(notary.lookup(composed)?.requestHash.hex == Self.requestHash)
        #expect(notary.lookup(decomposed)?.requestHash.hex == Self.responseHash)
        for algorithm in ["ecdsa", "ed25519"] {
            let nfc = try route.answer(chatID: composed, algorithm: algorithm, authorization: "Bearer t", logger: Self.logger)
            let nfd = try route.answer(chatID: decomposed, algorithm: algorithm, authorization: "Bearer t", logger: Self.logger)
            #expect(String(buffer: nfc).contains("\"text\":\"\(Self.requestHash):\(Self.responseHash)\""))
            #expect(String(buffer: nfd).contains("\"text\":\"\(Self.responseHash):\(Self.requestHash)\""))
        }
    }

    /// `/v1/signature` answers as the code that stored hex strings built them, for seed
    /// `signature-json`, the hashes above and model `Qwen/é"x:1` (a quote and non-ASCII in the text).
    private static let answersBefore: [SigningTextFormat: [String: String]] = [
        .plain: [
            "ecdsa": #"{"text":"5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538","signature":"0x27cfd94e14360e520aa1d7324f6ffc7729d3f8f01913f0469f7b7f46c7bf1d74282b828f9da9b2cb28a760de86b388b1dbd1bc5d5ee9237f73251f66389211c91b","signing_address":"0xd4f67dD738d3044EcdeF1D55F9010E8BDBc412D1","signing_algo":"ecdsa"}"#,
            "ed25519": #"{"text":"5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538","signature":"9fab9b0e1412503b226d10b861517e397f5c47d9cdec1bd60ef4c67633039af4791ae0692f0e939d45a926eb02586f2705f9cc83330b1f2d1d58df84c65e8e05","signing_address":"f5083a6b7d54236e2aef5de584b9aa6ac0f142bfd08d2c67fa5a2f77e4c62c89","signing_algo":"ed25519"}"#,
        ],
        .model: [
            "ecdsa": #"{"text":"Qwen/é\"x:1:5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538","signature":"0xd8298d445dcb5fc68b4f2368b9e70e30c0d973f5bf48401fcfd75f79455b4b32572062a6bf76aa90ef05b57db5ed06adf245be4cbd4a946df6ad037f60f123081c","signing_address":"0xd4f67dD738d3044EcdeF1D55F9010E8BDBc412D1","signing_algo":"ecdsa"}"#,
            "ed25519": #"{"text":"Qwen/é\"x:1:5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538","signature":"c8c201d6fa67ec726def6d2934db73bfcccd35cc481490be2739bdf4698e79e25e02b206627c8b49069e5114f31e9da18b0cc327ea247daf47cf552fd60b8400","signing_address":"f5083a6b7d54236e2aef5de584b9aa6ac0f142bfd08d2c67fa5a2f77e4c62c89","signing_algo":"ed25519"}"#,
        ],
    ]

    @Test(
        "the /v1/signature answer is byte-identical to the one built from hex strings, eager and lazy",
        arguments: SigningTextFormat.allCases, SigningMode.allCases)
    func answersUnchanged(format: SigningTextFormat, mode: SigningMode) throws {
        let notary = Self.makeNotary(mode, format: format, modelName: "Qwen/é\"x:1", seed: "signature-json")
        let route = SignatureRoute(authenticator: BearerAuthenticator(tokens: ["t"]), notary: notary, metrics: notary.metrics)
        #expect(notary.record(chatID: "chatcmpl-golden", requestHash: Self.requestHash, responseHash: Self.responseHash, logger: Self.logger))
        let expected = try #require(Self.answersBefore[format])
        // Twice each: the lazy first lookup signs, the second reads the cached bytes.
        for algorithm in ["ed25519", "ecdsa", "ed25519", "ecdsa"] {
            let answer = try route.answer(chatID: "chatcmpl-golden", algorithm: algorithm, authorization: "Bearer t", logger: Self.logger)
            #expect(Array(answer.readableBytesView) == Array(try #require(expected[algorithm]).utf8), "\(algorithm)")
        }
        #expect(notary.metrics.value(.signaturesSignedOnLookup) == (mode == .lazy ? 2 : 0))
    }

    @Test("over HTTP: an NFC id is found by its own percent-encoded bytes only, not by the NFD spelling")
    func normalisationOverHTTP() async throws {
        // The answer's id is NFC; the response bytes are forwarded and hashed as they are.
        let body = Array(#"{"id":"chatcmpl-caf\#u{E9}","object":"chat.completion","model":"tiny","choices":[]}"#.utf8)
        let mock = MockVLLMConfiguration(replay: MockVLLMReplay(body: body, contentType: "application/json"))
        try await ProxyHarness.run(mock: mock) { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: vectorRequest)
            #expect(answer.body == body)
            let composed = try await harness.send(.GET, "/v1/signature/chatcmpl-caf%C3%A9?signing_algo=ed25519")
            #expect(composed.status == 200)
            #expect(composed.text.contains("\"text\":\"\(sha256Hex(vectorRequest)):\(sha256Hex(body))\""))
            // Canonically equivalent, different bytes: a different id.
            let decomposed = try await harness.send(.GET, "/v1/signature/chatcmpl-cafe%CC%81?signing_algo=ed25519")
            try expectEnvelope(decomposed, status: 404, type: "not_found", message: "Chat id not found or expired")
        }
    }
}
