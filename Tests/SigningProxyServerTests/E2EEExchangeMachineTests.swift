import Crypto
import E2EE
import Foundation
import NIOCore
import NIOHTTP1
import SigningCore
import SigningCrypto
import Testing

@testable import SigningProxyServer

/// E2EE through the exchange core, without sockets: the request is hashed as received (ciphertext) and
/// forwarded as plaintext; the answer is sealed before it is hashed and sent, whole or event by event
/// (docs/E2EE.md, "Hashing and signing under E2EE").
@Suite("Exchange state machine under E2EE: plaintext to vLLM, ciphertext hashed and sent")
struct E2EEExchangeMachineTests {
    typealias Driver = ExchangeStateMachineTests

    static let keys = SigningKeys.dev(seed: "e2ee-machine-tests")
    static let keyring = try! E2EEKeyring(keys: keys, window: 300)
    static let prompt = "the secret prompt"
    static let reply = "the secret reply"

    /// A client of `dialect` with fresh keys; DV v2 gets a nonce and the current time.
    static func client(_ dialect: E2EEClient.Dialect, algo: SigningAlgo = .ecdsa) throws -> E2EEClient {
        let now = Int64(Date().timeIntervalSince1970)
        let nonce = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        switch dialect {
        case .aci(let suite):
            let entry = try #require(keyring.aci.first { $0.suite == suite })
            let secret: E2EESecretKey =
                suite == .x25519
                ? try .x25519(raw: (0..<32).map { _ in UInt8.random(in: 0...255) }) : .secp256k1(Secp256k1PrivateKey.random())
            return try E2EEClient(aci: suite, serverPublicKeyHex: entry.publicKeyHex, clientSecret: secret, nonce: nonce, timestamp: now)
        default:
            let server = algo == .ecdsa ? keys.ecdsaPublicKeyHex : keys.ed25519PublicKeyHex
            let v2 = dialect == .dv(version: 2)
            return try E2EEClient(
                dialect: dialect, algo: algo, serverPublicKeyHex: server, clientSecp256k1: Secp256k1PrivateKey.random(),
                clientEd25519Seed: (0..<32).map { _ in UInt8.random(in: 0...255) }, nonce: v2 ? nonce : nil, timestamp: v2 ? now : nil)
        }
    }

    /// The chat request the client sends: its one message's content sealed (with DV v2's or ACI's AAD).
    static func chatBody(_ client: E2EEClient, stream: Bool) throws -> [UInt8] {
        let aad: [UInt8]
        switch client.dialect {
        case .dv(2):
            aad = E2EEAAD.dvRequest(algo: client.algo, model: "m", messageIndex: 0, contentIndex: nil, nonce: client.nonce!, timestamp: client.timestamp!)
        case .aci(let suite):
            aad = E2EEAAD.aciRequest(suite: suite, model: "m", field: "messages.0.content", nonce: client.nonce!, timestamp: client.timestamp!)
        default:
            aad = []
        }
        let sealed = try client.sealRequestField(prompt, aad: aad)
        return Array(#"{"model":"m","stream":\#(stream),"messages":[{"role":"user","content":"\#(sealed)"}]}"#.utf8)
    }

    /// The machine for `client`'s request, with its headers checked as the glue checks them.
    static func machine(_ client: E2EEClient, path: String = "/v1/chat/completions") throws -> ExchangeStateMachine {
        let route = try #require(FastPathServices.route(method: .POST, path: path))
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        for (name, value) in client.headers { headers.add(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)
        guard case .proxied(let proxied) = route else { throw Driver.Unexpected("not proxied") }
        let e2ee: Result<E2EEExchange, OpenAIError>?
        do {
            e2ee = try E2EEExchange(
                headers: E2EEHeaders(head.headers.map { ($0.name, $0.value) }), endpoint: proxied.e2eeEndpoint,
                keys: keyring.server, keyset: keyring.aci, now: Int64(Date().timeIntervalSince1970)
            ).map { .success($0) }
        } catch {
            e2ee = .failure(OpenAIError(e2ee: error))
        }
        return ExchangeStateMachine(route: route, head: head, settings: Driver.settings, authentication: nil, e2ee: e2ee)
    }

    /// Sends the request; claims its nonce in `replay` when the machine asks. Returns the body vLLM got.
    static func send(
        _ machine: inout ExchangeStateMachine, body: [UInt8], replay: InMemoryReplayCache
    ) async throws -> [UInt8] {
        #expect(machine.requestHead(declaresBody: true).isNone)
        #expect(machine.requestBody(Driver.buffer(body)).isNone)
        var action = machine.requestEnd(now: .uptimeNanoseconds(0))
        if case .claimReplay(let exchange) = action {
            var refusal: OpenAIError?
            do { try await exchange.claimReplay(store: replay, now: Int64(Date().timeIntervalSince1970)) } catch { refusal = OpenAIError(e2ee: error) }
            action = machine.replayClaimed(refusal)
        }
        guard case .connectUpstream = action else { throw Driver.Unexpected("no connect: \(action)") }
        guard case .sendUpstream(_, let sent) = machine.upstreamConnected(reused: false) else { throw Driver.Unexpected("nothing sent") }
        return Array(sent?.readableBytesView ?? [])
    }

    static let dialects: [E2EEClient.Dialect] = [.dv(version: 1), .dv(version: 2), .near(version: 1), .near(version: 2), .aci(.x25519), .aci(.secp256k1)]

    @Test("a whole answer: plaintext upstream, sealed answer signed over the bytes sent", arguments: dialects)
    func wholeAnswer(dialect: E2EEClient.Dialect) async throws {
        let client = try Self.client(dialect)
        let body = try Self.chatBody(client, stream: false)
        var machine = try Self.machine(client)
        let forwarded = try await Self.send(&machine, body: body, replay: InMemoryReplayCache())
        let upstream = try #require(try JSONSerialization.jsonObject(with: Data(forwarded)) as? [String: Any])
        let messages = try #require(upstream["messages"] as? [[String: Any]])
        #expect(messages.first?["content"] as? String == Self.prompt)
        let answer = #"{"id":"chatcmpl-1","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"\#(Self.reply)"},"finish_reason":"stop"}]}"#
        let outcome = try Driver.answer(&machine, contentType: "application/json", parts: [Array(answer.utf8)])
        #expect(outcome.head?.status == .ok)
        let text = String(decoding: outcome.bytes, as: UTF8.self)
        #expect(!text.contains(Self.reply))
        #expect(text.contains("chatcmpl-1"))
        #expect(outcome.receipt == .sign(chatID: "chatcmpl-1", requestHash: Driver.hex(body), responseHash: Driver.hex(outcome.bytes), inline: false))
        let sent = try #require(try JSONSerialization.jsonObject(with: Data(outcome.bytes)) as? [String: Any])
        let choice = try #require((sent["choices"] as? [[String: Any]])?.first)
        let sealed = try #require((choice["message"] as? [String: Any])?["content"] as? String)
        #expect(try client.openResponseField(sealed, aad: Self.responseAAD(client, id: "chatcmpl-1")) == Self.reply)
        // NEAR's answers carry no E2EE header, not even the plaintext answer's `false`.
        let applied = outcome.head?.headers.first(name: "X-E2EE-Applied")
        if case .near = dialect { #expect(applied == nil) } else { #expect(applied == "true") }
    }

    static func responseAAD(_ client: E2EEClient, id: String) -> [UInt8] {
        switch client.dialect {
        case .dv(2):
            E2EEAAD.dvResponse(algo: client.algo, model: "m", id: id, choice: 0, field: "content", nonce: client.nonce!, timestamp: client.timestamp!)
        case .aci(let suite):
            E2EEAAD.aciResponse(suite: suite, model: "m", id: id, field: "choices.0.message.content", nonce: client.nonce!, timestamp: client.timestamp!)
        default:
            []
        }
    }

    @Test("a stream at every split: each event sealed, the signature over the sealed bytes", arguments: [E2EEClient.Dialect.dv(version: 2), .near(version: 2)])
    func streamAtEverySplit(dialect: E2EEClient.Dialect) async throws {
        var events = ""
        for (index, piece) in ["the ", "secret ", "reply"].enumerated() {
            let role = index == 0 ? #""role":"assistant","# : ""
            events += #"data: {"id":"chatcmpl-2","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{\#(role)"content":"\#(piece)"}}]}"# + "\n\n"
        }
        events += "data: [DONE]\n\n"
        let answer = Array(events.utf8)
        for split in stride(from: 1, to: answer.count, by: 37) {
            let client = try Self.client(dialect)
            let body = try Self.chatBody(client, stream: true)
            var machine = try Self.machine(client)
            _ = try await Self.send(&machine, body: body, replay: InMemoryReplayCache())
            let outcome = try Driver.answer(
                &machine, contentType: "text/event-stream", parts: [Array(answer[..<split]), Array(answer[split...])])
            let text = String(decoding: outcome.bytes, as: UTF8.self)
            #expect(!text.contains("secret"), "split \(split)")
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            #expect(outcome.receipt == .sign(chatID: "chatcmpl-2", requestHash: Driver.hex(body), responseHash: Driver.hex(outcome.bytes), inline: false))
        }
    }

    @Test("a replayed DV v2 nonce is refused before anything goes upstream")
    func replay() async throws {
        let client = try Self.client(.dv(version: 2))
        let body = try Self.chatBody(client, stream: false)
        let replay = InMemoryReplayCache()
        var first = try Self.machine(client)
        _ = try await Self.send(&first, body: body, replay: replay)
        var second = try Self.machine(client)
        await #expect(throws: Driver.Unexpected.self) { _ = try await Self.send(&second, body: body, replay: replay) }
    }

    @Test("a refused header set or a tampered field: the dialect's 400, nothing forwarded")
    func refusals() throws {
        let client = try Self.client(.dv(version: 2))
        var body = try Self.chatBody(client, stream: false)
        // Flip one hex digit inside the sealed content.
        let index = body.count - 10
        body[index] = body[index] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        var machine = try Self.machine(client)
        #expect(machine.requestHead(declaresBody: true).isNone)
        #expect(machine.requestBody(Driver.buffer(body)).isNone)
        var outcome = Driver.Outcome()
        try Driver.apply(machine.requestEnd(now: .uptimeNanoseconds(0)), to: &outcome)
        #expect(outcome.head?.status == .badRequest)
        #expect(String(decoding: outcome.bytes, as: UTF8.self).contains("e2ee_decryption_failed"))

        // A DV request whose model key is not ours.
        let stranger = SigningKeys.dev(seed: "someone else")
        let wrongKey = try E2EEClient(
            dialect: .dv(version: 1), algo: .ecdsa, serverPublicKeyHex: stranger.ecdsaPublicKeyHex,
            clientSecp256k1: Secp256k1PrivateKey.random())
        var mismatch = try Self.machine(wrongKey)
        #expect(mismatch.requestHead(declaresBody: true).isNone)
        #expect(mismatch.requestBody(Driver.buffer(Array("{}".utf8))).isNone)
        var refused = Driver.Outcome()
        try Driver.apply(mismatch.requestEnd(now: .uptimeNanoseconds(0)), to: &refused)
        #expect(String(decoding: refused.bytes, as: UTF8.self).contains("e2ee_model_key_mismatch"))
        #expect(refused.notes == [.rejected])
    }

    @Test("an answer that cannot be sealed is withheld: a 502 before any byte, a cut stream after")
    func unsealable() async throws {
        // ACI refuses a content that is not a string (the NEAR and DV sealers pass one through).
        let client = try Self.client(.aci(.x25519))
        var whole = try Self.machine(client)
        _ = try await Self.send(&whole, body: try Self.chatBody(client, stream: false), replay: InMemoryReplayCache())
        let outcome = try Driver.answer(
            &whole, contentType: "application/json", parts: [Array(#"{"id":"x","model":"m","choices":[{"index":0,"message":{"content":7}}]}"#.utf8)])
        #expect(outcome.head?.status == .badGateway)
        #expect(String(decoding: outcome.bytes, as: UTF8.self).contains("e2ee_encryption_failed"))
        #expect(outcome.notes.contains(.unsealable))
        #expect(outcome.receipt == Optional(ExchangeStateMachine.Receipt.none))

        // A stream whose second event is not JSON: the first went out sealed, then the stream is cut, unsigned.
        let streamed = try Self.client(.near(version: 2))
        var stream = try Self.machine(streamed)
        _ = try await Self.send(&stream, body: try Self.chatBody(streamed, stream: true), replay: InMemoryReplayCache())
        let first = #"data: {"id":"c","choices":[{"index":0,"delta":{"content":"the secret"}}]}"# + "\n\n"
        let cut = try Driver.answer(
            &stream, contentType: "text/event-stream", parts: [Array(first.utf8), Array("data: {not json\n\ndata: [DONE]\n\n".utf8)])
        #expect(cut.abandoned)
        #expect(cut.notes.contains(.unsealable))
        #expect(cut.receipt == nil)
        #expect(!String(decoding: cut.bytes, as: UTF8.self).contains("secret"))
        #expect(cut.head?.status == .ok)
    }

    @Test("vLLM's error answer to a decrypted request keeps its status, not its body, which may quote the plaintext", arguments: dialects)
    func errorAnswerWithheld(dialect: E2EEClient.Dialect) async throws {
        let client = try Self.client(dialect)
        var machine = try Self.machine(client)
        _ = try await Self.send(&machine, body: try Self.chatBody(client, stream: true), replay: InMemoryReplayCache())
        // vLLM's validation errors quote the offending input (Fixtures/vllm/error-bad-json.body has the shape).
        let echo = #"{"error":{"message":"1 validation error: {'input': {'role': 'x', 'content': '\#(Self.prompt)'}}","type":"Bad Request","param":"body.messages.0.role","code":400}}"#
        let outcome = try Driver.answer(&machine, status: .badRequest, contentType: "application/json", parts: [Array(echo.utf8)])
        #expect(outcome.head?.status == .badRequest)
        let text = String(decoding: outcome.bytes, as: UTF8.self)
        #expect(!text.contains(Self.prompt))
        #expect(outcome.bytes == Array(OpenAIError.e2eeUpstreamStatus(400).envelope().readableBytesView))
        #expect(outcome.receipt == Optional(ExchangeStateMachine.Receipt.none))
    }

    @Test("a line longer than a buffered answer may be is not held: the stream is withheld, unsigned")
    func overlongLine() async throws {
        let client = try Self.client(.near(version: 2))
        var machine = try Self.machine(client)
        _ = try await Self.send(&machine, body: try Self.chatBody(client, stream: true), replay: InMemoryReplayCache())
        let line = Array(#"data: {"id":"c","choices":[{"index":0,"delta":{"content":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 20_000)
        let outcome = try Driver.answer(&machine, contentType: "text/event-stream", parts: [line], end: false)
        #expect(outcome.head?.status == .badGateway)
        #expect(outcome.notes.contains(.unsealable))
    }

    @Test("E2EE_REPLAY_WINDOW_SECONDS bounds v2 timestamps: ACI at the headers, DV at the claim")
    func window() async throws {
        let old = Int64(Date().timeIntervalSince1970) - 60
        let nonce = String(repeating: "ab", count: 32)
        let aciKey = try #require(Self.keyring.aci.first { $0.suite == .secp256k1 })
        let aci = try E2EEClient(
            aci: .secp256k1, serverPublicKeyHex: aciKey.publicKeyHex, clientSecret: .secp256k1(Secp256k1PrivateKey.random()),
            nonce: nonce, timestamp: old)
        let headers = E2EEHeaders(aci.headers)
        let keyring = Self.keyring
        // 60 s old: inside the default 300 s, outside a 30 s window.
        #expect(try E2EEExchange(headers: headers, endpoint: .chatCompletions, keys: keyring.server, keyset: keyring.aci, now: old + 60) != nil)
        #expect(throws: E2EEError.self) {
            _ = try E2EEExchange(headers: headers, endpoint: .chatCompletions, keys: keyring.server, keyset: keyring.aci, now: old + 60, window: 30)
        }
        let dv = try E2EEClient(
            dialect: .dv(version: 2), algo: .ecdsa, serverPublicKeyHex: Self.keys.ecdsaPublicKeyHex,
            clientSecp256k1: Secp256k1PrivateKey.random(), nonce: nonce, timestamp: old)
        var exchange = try #require(
            try E2EEExchange(headers: E2EEHeaders(dv.headers), endpoint: .chatCompletions, keys: keyring.server, keyset: [], now: old + 60, window: 30))
        _ = try exchange.openRequest(try Self.chatBody(dv, stream: false))
        await #expect(throws: E2EEError.self) { try await exchange.claimReplay(store: InMemoryReplayCache(), now: old + 60) }
    }
}
