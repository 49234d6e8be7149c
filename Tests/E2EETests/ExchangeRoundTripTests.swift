import Foundation
import Testing

@testable import E2EE

/// Whole request bodies and answers through `E2EEExchange`, per dialect and endpoint, with `E2EEClient` on the
/// other side (the Python vectors in ExchangePythonVectorTests check the same rules independently).
@Suite struct ExchangeRoundTripTests {
    let fixture: ExchangeFixture

    init() throws { self.fixture = try ExchangeFixture() }

    // MARK: DV

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519], [1, 2])
    func dvChat(algo: SigningAlgo, version: Int) async throws {
        let client = try self.fixture.client(.dv(version: version), algo)
        var exchange = try self.fixture.exchange(E2EEHeaders(client.headers), .chatCompletions)
        let model = self.fixture.world.model
        func aad(_ m: Int, _ c: Int?) -> [UInt8] {
            version == 1 ? [] : E2EEAAD.dvRequest(algo: algo, model: model, messageIndex: m, contentIndex: c,
                                                  nonce: self.fixture.world.dv_nonce, timestamp: self.fixture.world.timestamp)
        }
        let parts: [[String: Any]] = [["type": "text", "text": "look"], ["type": "image_url", "image_url": ["url": "data:x"]]]
        let plain: [String: Any] = [
            "model": model, "temperature": 0.25, "stream": false,
            "messages": [
                ["role": "system", "content": "be \"brief\"\né"],
                ["role": "user", "content": parts],
                ["role": "user", "content": String(decoding: try ExchangeFixture.bytes(parts), as: UTF8.self)],
                ["role": "assistant", "content": NSNull()],
            ],
        ]
        let sent: [String: Any] = [
            "model": model, "temperature": 0.25, "stream": false,
            "messages": [
                ["role": "system", "content": try client.sealRequestField("be \"brief\"\né", aad: aad(0, nil))],
                ["role": "user", "content": [["type": "text", "text": try client.sealRequestField("look", aad: aad(1, 0))],
                                             ["type": "image_url", "image_url": ["url": "data:x"]]]],
                ["role": "user", "content": try client.sealRequestField(
                    String(decoding: try ExchangeFixture.bytes(parts), as: UTF8.self), aad: aad(2, nil))],
                ["role": "assistant", "content": NSNull()],
            ],
        ]
        var expected = plain
        expected["messages"] = ExchangeFixture.replacing(plain["messages"]!, [2, "content"], with: parts)
        try ExchangeFixture.expectSameJSON(try exchange.openRequest(try ExchangeFixture.bytes(sent)), try ExchangeFixture.bytes(expected))
        try await exchange.claimReplay(store: InMemoryReplayCache(), now: self.fixture.keys.now)
        #expect(exchange.responseHeaders.map(\.name) == ["X-E2EE-Applied", "X-E2EE-Version", "X-E2EE-Algo", "X-E2EE-Alg"])

        func answerAAD(_ choice: Int, _ field: String) -> [UInt8] {
            version == 1 ? [] : E2EEAAD.dvResponse(algo: algo, model: "served", id: "chatcmpl-9", choice: choice, field: field,
                                                   nonce: self.fixture.world.dv_nonce, timestamp: self.fixture.world.timestamp)
        }
        // The answer: `index` is ignored (DV binds the position), `reasoning` (vLLM 0.32's name) is sealed too, null stays.
        let answer = Array(#"{"id":"chatcmpl-9","model":"served","choices":[{"index":5,"message":{"role":"assistant","content":"hi \u00e9\n","reasoning_content":"think","reasoning":"r"}},{"index":1,"message":{"content":null,"reasoning_content":""}}],"usage":{"x":1e-05}}"#.utf8)
        try ExchangeFixture.expectSealed(
            try exchange.sealResponse(answer), plain: answer, client: client,
            sealed: [([ "choices", 0, "message", "content"], answerAAD(0, "content"), "hi é\n"),
                     (["choices", 0, "message", "reasoning_content"], answerAAD(0, "reasoning_content"), "think"),
                     (["choices", 0, "message", "reasoning"], answerAAD(0, "reasoning"), "r"),
                     (["choices", 1, "message", "reasoning_content"], answerAAD(1, "reasoning_content"), "")])

        var stream = exchange.streamSealer()
        let events = [
            #"{"id":"chatcmpl-9","model":"served","choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            #"{"id":"chatcmpl-9","model":"served","choices":[{"index":0,"delta":{"content":"a"},"logprobs":null}]}"#,
            #"{"id":"chatcmpl-9","model":"served","choices":[{"index":0,"delta":{"content":"","reasoning_content":"b"}}]}"#,
        ]
        let input = events.map { "data: \($0)\n\n" }.joined() + "data: [DONE]\n\n"
        let output = try Array(input.utf8).withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) } + (try stream.finish())
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 9 && lines[6] == "data: [DONE]")
        let sealedEvents = lines.filter { $0.hasPrefix("data: {") }.map { Array($0.dropFirst(6).utf8) }
        try ExchangeFixture.expectSealed(sealedEvents[0], plain: Array(events[0].utf8), client: client, sealed: [],
                                         dropped: [["choices", 0, "delta", "content"]])
        try ExchangeFixture.expectSealed(sealedEvents[1], plain: Array(events[1].utf8), client: client,
                                         sealed: [(["choices", 0, "delta", "content"], answerAAD(0, "content"), "a")])
        try ExchangeFixture.expectSealed(sealedEvents[2], plain: Array(events[2].utf8), client: client,
                                         sealed: [(["choices", 0, "delta", "reasoning_content"], answerAAD(0, "reasoning_content"), "b")],
                                         dropped: [["choices", 0, "delta", "content"]])
        // The dropped member leaves valid JSON with its neighbours' bytes.
        #expect(String(decoding: sealedEvents[0], as: UTF8.self).contains(#""delta":{"role":"assistant"}"#))
    }

    /// Everything but the sealed values keeps its bytes: numbers as written, spacing, member order, the id.
    @Test func dvAnswerKeepsBytes() throws {
        let client = try self.fixture.client(.dv(version: 2), .ecdsa)
        let exchange = try self.fixture.exchange(E2EEHeaders(client.headers), .chatCompletions)
        let answer = #"{ "id" : "c-1", "choices" : [ { "message" : { "content" : "x", "n": 1.000e-05 } } ], "z": [1.0, 2E3] }"#
        let sealed = String(decoding: try exchange.sealResponse(Array(answer.utf8)), as: UTF8.self)
        let hex = try #require(sealed.firstMatch(of: /"content" : "([0-9a-f]+)"/)?.1)
        #expect(sealed.replacingOccurrences(of: String(hex), with: "x") == answer)
    }

    // MARK: NEAR

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519], [1, 2])
    func nearEndpoints(algo: SigningAlgo, version: Int) throws {
        let client = try self.fixture.client(.near(version: version), algo)
        let headers = E2EEHeaders(client.headers)
        let seal = { (text: String) throws -> String in try client.sealRequestField(text) }

        // Chat: content (a serialised list is restored), reasoning fields, audio; a list content passes as sent.
        var chat = try self.fixture.exchange(headers, .chatCompletions)
        let list = #"[{"type":"text","text":"hi"}]"#
        let sent: [String: Any] = ["model": "m", "messages": [
            ["role": "user", "content": try seal("q"), "name": "plain name"],
            ["role": "user", "content": try seal(list)],
            ["role": "assistant", "content": "", "reasoning_content": try seal("rc"), "reasoning": try seal("r"),
             "audio": ["id": "a1", "data": try seal("b64")]],
            ["role": "user", "content": [["type": "text", "text": "clear"]]],
        ]]
        let expected: [String: Any] = ["model": "m", "messages": [
            ["role": "user", "content": "q", "name": "plain name"],
            ["role": "user", "content": [["type": "text", "text": "hi"]]],
            ["role": "assistant", "content": "", "reasoning_content": "rc", "reasoning": "r", "audio": ["id": "a1", "data": "b64"]],
            ["role": "user", "content": [["type": "text", "text": "clear"]]],
        ]]
        try ExchangeFixture.expectSameJSON(try chat.openRequest(try ExchangeFixture.bytes(sent)), try ExchangeFixture.bytes(expected))
        #expect(chat.responseHeaders.isEmpty)
        let answer = Array(#"{"id":"c","choices":[{"index":0,"message":{"content":"a","reasoning":"b","reasoning_content":"","audio":{"data":"d"},"refusal":null,"tool_calls":[]}}]}"#.utf8)
        try ExchangeFixture.expectSealed(
            try chat.sealResponse(answer), plain: answer, client: client,
            sealed: [(["choices", 0, "message", "content"], [], "a"), (["choices", 0, "message", "reasoning"], [], "b"),
                     (["choices", 0, "message", "audio", "data"], [], "d")])
        // Without X-Encrypt-All-Fields NEAR seals no refusal or tool call: one with a value cannot go out.
        for unsealed in [#""refusal":"no""#, #""tool_calls":[{"function":{"name":"f","arguments":"{}"}}]"#] {
            #expect(throws: E2EEError.unsealableAnswer(.near)) {
                try chat.sealResponse(Array(#"{"id":"c","choices":[{"index":0,"message":{"content":"a",\#(unsealed)}}]}"#.utf8))
            }
        }

        // Completions: a prompt list (token ids pass); the answer's text, whole and streamed.
        var completions = try self.fixture.exchange(headers, .completions)
        try ExchangeFixture.expectSameJSON(
            try completions.openRequest(try ExchangeFixture.bytes(["model": "m", "prompt": [try seal("p0"), "", [1, 2]]])),
            try ExchangeFixture.bytes(["model": "m", "prompt": ["p0", "", [1, 2]]]))
        let text = Array(#"{"id":"c","choices":[{"index":0,"text":"t","logprobs":null}]}"#.utf8)
        try ExchangeFixture.expectSealed(try completions.sealResponse(text), plain: text, client: client,
                                         sealed: [(["choices", 0, "text"], [], "t")])
        var stream = completions.streamSealer()
        let streamed = try Array("data: \(String(decoding: text, as: UTF8.self))\r\n\r\n".utf8).withUnsafeBytes { raw throws(E2EEError) in
            try stream.consume(raw)
        }
        #expect(streamed.suffix(4) == Array("\r\n\r\n".utf8))
        try ExchangeFixture.expectSealed(Array(streamed.dropFirst(6).dropLast(4)), plain: text, client: client,
                                         sealed: [(["choices", 0, "text"], [], "t")])

        // Embeddings: input string; each embedding sealed as its compact JSON text.
        var embeddings = try self.fixture.exchange(headers, .embeddings)
        try ExchangeFixture.expectSameJSON(
            try embeddings.openRequest(try ExchangeFixture.bytes(["model": "m", "input": try seal("e")])),
            try ExchangeFixture.bytes(["model": "m", "input": "e"]))
        let vectors = Array(#"{"id":"e","data":[{"index":0,"object":"embedding","embedding":[0.5, -1e-05,2]}],"usage":{}}"#.utf8)
        let sealedVectors = try embeddings.sealResponse(vectors)
        let hex = try #require(ExchangeFixture.value(try ExchangeFixture.object(sealedVectors), ["data", 0, "embedding"]) as? String)
        #expect(try client.openResponseField(hex) == "[0.5,-1e-05,2]")

        // Rerank and score.
        var rerank = try self.fixture.exchange(headers, .rerank)
        try ExchangeFixture.expectSameJSON(
            try rerank.openRequest(try ExchangeFixture.bytes(["query": try seal("q"), "documents": [try seal("d0"), ["text": try seal("d1")], 3]])),
            try ExchangeFixture.bytes(["query": "q", "documents": ["d0", ["text": "d1"], 3]]))
        let ranked = Array(#"{"results":[{"index":1,"document":{"text":"d1"},"relevance_score":0.9}]}"#.utf8)
        try ExchangeFixture.expectSealed(try rerank.sealResponse(ranked), plain: ranked, client: client,
                                         sealed: [(["results", 0, "document", "text"], [], "d1")])
        var score = try self.fixture.exchange(headers, .score)
        try ExchangeFixture.expectSameJSON(
            try score.openRequest(try ExchangeFixture.bytes(["text_1": try seal("a"), "text_2": try seal("b")])),
            try ExchangeFixture.bytes(["text_1": "a", "text_2": "b"]))
        let scored = Array(#"{"data":[{"score":0.5}],"score":[0.5]}"#.utf8)
        try ExchangeFixture.expectSealed(try score.sealResponse(scored), plain: scored, client: client,
                                         sealed: [(["score"], [], "[0.5]")])
    }

    /// `X-Encrypt-All-Fields: true`: tools, tool choice, names, tool calls and refusal too (leniently in requests),
    /// and tool calls, refusal and logprobs in answers.
    @Test func nearAllFields() throws {
        let client = try self.fixture.client(.near(version: 2), .ed25519)
        var exchange = try self.fixture.exchange(self.fixture.headers(client, adding: [("X-Encrypt-All-Fields", "true")]), .chatCompletions)
        let seal = { (text: String) throws -> String in try client.sealRequestField(text) }
        let schema = #"{"type":"object","properties":{"a":{"type":"string"}}}"#
        let sent: [String: Any] = [
            "messages": [
                ["role": "assistant", "content": try seal("c"), "refusal": "plain refusal",
                 "tool_calls": [["id": "t1", "type": "function", "function": ["name": try seal("fn"), "arguments": try seal("{\"a\":1}")]]]],
                ["role": "tool", "name": try seal("fn"), "content": try seal("out")],
            ],
            "tools": [["type": "function", "function": ["name": try seal("fn"), "description": try seal("desc"), "parameters": try seal(schema)]]],
            "tool_choice": ["type": "function", "function": ["name": try seal("fn")]],
        ]
        let expected: [String: Any] = [
            "messages": [
                ["role": "assistant", "content": "c", "refusal": "plain refusal",
                 "tool_calls": [["id": "t1", "type": "function", "function": ["name": "fn", "arguments": "{\"a\":1}"]]]],
                ["role": "tool", "name": "fn", "content": "out"],
            ],
            "tools": [["type": "function", "function": ["name": "fn", "description": "desc",
                                                        "parameters": try ExchangeFixture.object(Array(schema.utf8))]]],
            "tool_choice": ["type": "function", "function": ["name": "fn"]],
        ]
        try ExchangeFixture.expectSameJSON(try exchange.openRequest(try ExchangeFixture.bytes(sent)), try ExchangeFixture.bytes(expected))
        let event = Array(#"{"id":"c","choices":[{"index":0,"delta":{"refusal":"no","tool_calls":[{"index":0,"function":{"name":"f","arguments":"{\"a\""}}]},"logprobs":{"content":[{"token":"to","logprob":-0.1,"bytes":[116,111],"top_logprobs":[{"token":"x","logprob":-2,"bytes":[120]}]}]}}]}"#.utf8)
        var stream = exchange.streamSealer()
        let output = try Array("data: \(String(decoding: event, as: UTF8.self))\n".utf8).withUnsafeBytes { raw throws(E2EEError) in
            try stream.consume(raw)
        }
        try ExchangeFixture.expectSealed(
            Array(output.dropFirst(6).dropLast()), plain: event, client: client,
            sealed: [(["choices", 0, "delta", "refusal"], [], "no"),
                     (["choices", 0, "delta", "tool_calls", 0, "function", "name"], [], "f"),
                     (["choices", 0, "delta", "tool_calls", 0, "function", "arguments"], [], "{\"a\""),
                     (["choices", 0, "logprobs", "content", 0, "token"], [], "to"),
                     (["choices", 0, "logprobs", "content", 0, "bytes"], [], "[116,111]"),
                     (["choices", 0, "logprobs", "content", 0, "top_logprobs", 0, "token"], [], "x"),
                     (["choices", 0, "logprobs", "content", 0, "top_logprobs", 0, "bytes"], [], "[120]")])
    }

    // MARK: Shared v1 (DV v1 or NEAR v1 from the headers alone)

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519], [false, true])
    func legacyV1(algo: SigningAlgo, nearClient: Bool) throws {
        let client = try self.fixture.client(nearClient ? .near(version: 1) : .dv(version: 1), algo)
        let headers = self.fixture.headers(client, dropping: ["x-e2ee-version", "x-encryption-version"])
        var exchange = try self.fixture.exchange(headers, .chatCompletions)
        guard case .legacyV1 = exchange.context else { Issue.record("not the shared v1"); return }
        let sent: [String: Any] = ["model": "m", "messages": [["role": "user", "content": try client.sealRequestField("q")],
                                                               ["role": "assistant", "content": "", "reasoning_content": "clear"]]]
        try ExchangeFixture.expectSameJSON(
            try exchange.openRequest(try ExchangeFixture.bytes(sent)),
            try ExchangeFixture.bytes(["model": "m", "messages": [["role": "user", "content": "q"],
                                                                 ["role": "assistant", "content": "", "reasoning_content": "clear"]]]))
        #expect(exchange.responseHeaders.isEmpty == (nearClient && algo == .ed25519))
        let answer = Array(#"{"id":"c","model":"m","choices":[{"message":{"content":"a","reasoning":"b"}}]}"#.utf8)
        try ExchangeFixture.expectSealed(
            try exchange.sealResponse(answer), plain: answer, client: client,
            sealed: [(["choices", 0, "message", "content"], [], "a"), (["choices", 0, "message", "reasoning"], [], "b")])
        // NEAR's endpoints are open to the shared v1 too.
        var embeddings = try self.fixture.exchange(headers, .embeddings)
        try ExchangeFixture.expectSameJSON(
            try embeddings.openRequest(try ExchangeFixture.bytes(["input": [try client.sealRequestField("e")]])),
            try ExchangeFixture.bytes(["input": ["e"]]))
    }

    // MARK: ACI v2

    @Test(arguments: [ACIKey.Suite.x25519, .secp256k1])
    func aciEndpoints(suite: ACIKey.Suite) async throws {
        let client = try self.fixture.aciClient(suite)
        let headers = E2EEHeaders(client.headers)
        let model = self.fixture.world.model
        let nonce = self.fixture.world.aci_nonce
        let ts = self.fixture.world.timestamp
        let seal = { (text: String, field: String) throws -> String in
            try client.sealRequestField(text, aad: E2EEAAD.aciRequest(suite: suite, model: model, field: field, nonce: nonce, timestamp: ts))
        }
        func answerAAD(_ id: String, _ field: String) -> [UInt8] {
            E2EEAAD.aciResponse(suite: suite, model: model, id: id, field: field, nonce: nonce, timestamp: ts)
        }

        var chat = try self.fixture.exchange(headers, .chatCompletions)
        let restored = #"[{"type":"text","text":"t"}]"#
        let sent: [String: Any] = ["model": model, "messages": [
            ["role": "system", "content": try seal("sys", "messages.0.content")],
            ["role": "user", "content": [
                ["type": "text", "text": try seal("hello", "messages.1.content.0.text")],
                ["type": "image_url", "image_url": ["url": try seal("data:image/png;base64,AA", "messages.1.content.1.image_url.url")]],
                ["type": "input_audio", "input_audio": ["data": try seal("UklG", "messages.1.content.2.input_audio.data"), "format": "wav"]],
            ]],
            ["role": "user", "content": try seal(restored, "messages.2.content")],
        ]]
        let expected: [String: Any] = ["model": model, "messages": [
            ["role": "system", "content": "sys"],
            ["role": "user", "content": [
                ["type": "text", "text": "hello"], ["type": "image_url", "image_url": ["url": "data:image/png;base64,AA"]],
                ["type": "input_audio", "input_audio": ["data": "UklG", "format": "wav"]],
            ]],
            ["role": "user", "content": [["type": "text", "text": "t"]]],
        ]]
        try ExchangeFixture.expectSameJSON(try chat.openRequest(try ExchangeFixture.bytes(sent)), try ExchangeFixture.bytes(expected))
        try await chat.claimReplay(store: InMemoryReplayCache(), now: ts)
        #expect(chat.responseHeaders.map(\.value) == ["true", "2", suite.rawValue])
        // The answer's own model is not bound (the request's is); `index` names the choice.
        let answer = Array(#"{"id":"chatcmpl-7","model":"other","choices":[{"index":3,"message":{"content":"a","reasoning":null,"reasoning_content":"rc","audio":{"id":"x","data":"wav"}}}]}"#.utf8)
        try ExchangeFixture.expectSealed(
            try chat.sealResponse(answer), plain: answer, client: client,
            sealed: [(["choices", 0, "message", "content"], answerAAD("chatcmpl-7", "choices.3.message.content"), "a"),
                     (["choices", 0, "message", "reasoning_content"], answerAAD("chatcmpl-7", "choices.3.message.reasoning_content"), "rc"),
                     (["choices", 0, "message", "audio", "data"], answerAAD("chatcmpl-7", "choices.3.message.audio.data"), "wav")])
        var stream = chat.streamSealer()
        let event = #"{"id":"chatcmpl-7","choices":[{"delta":{"content":"","reasoning":"r"}},{"delta":{"content":"b"}}]}"#
        let output = try Array("data:\(event)\n".utf8).withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) }
        #expect(output.starts(with: Array("data:{".utf8)))
        try ExchangeFixture.expectSealed(
            Array(output.dropFirst(5).dropLast()), plain: Array(event.utf8), client: client,
            sealed: [(["choices", 0, "delta", "reasoning"], answerAAD("chatcmpl-7", "choices.0.delta.reasoning"), "r"),
                     (["choices", 1, "delta", "content"], answerAAD("chatcmpl-7", "choices.1.delta.content"), "b")],
            dropped: [["choices", 0, "delta", "content"]])

        var completions = try self.fixture.exchange(headers, .completions)
        try ExchangeFixture.expectSameJSON(
            try completions.openRequest(try ExchangeFixture.bytes(["model": model, "prompt": [try seal("p", "prompt.0"), [1, 2]]])),
            try ExchangeFixture.bytes(["model": model, "prompt": ["p", [1, 2]]]))
        let text = Array(#"{"choices":[{"text":"t"}]}"#.utf8)
        try ExchangeFixture.expectSealed(try completions.sealResponse(text), plain: text, client: client,
                                         sealed: [(["choices", 0, "text"], answerAAD("", "choices.0.text"), "t")])

        var embeddings = try self.fixture.exchange(headers, .embeddings)
        try ExchangeFixture.expectSameJSON(
            try embeddings.openRequest(try ExchangeFixture.bytes(["model": model, "input": try seal("in", "input")])),
            try ExchangeFixture.bytes(["model": model, "input": "in"]))
        let vectors = Array(#"{"id":"e","data":[{"index":1,"embedding":[1.5, 2]},{"embedding":"AAAA"}]}"#.utf8)
        let sealed = try ExchangeFixture.object(try embeddings.sealResponse(vectors))
        #expect(try client.openResponseField(ExchangeFixture.value(sealed, ["data", 0, "embedding"]) as! String,
                                             aad: answerAAD("e", "data.1.embedding")) == "[1.5,2]")
        #expect(try client.openResponseField(ExchangeFixture.value(sealed, ["data", 1, "embedding"]) as! String,
                                             aad: answerAAD("e", "data.1.embedding")) == "\"AAAA\"")
    }

    @Test func plaintextRequestHasNoExchange() throws {
        #expect(try E2EEExchange(headers: E2EEHeaders(), endpoint: .chatCompletions, keys: self.fixture.keys.server,
                                 keyset: self.fixture.keys.keyset, now: 0) == nil)
    }
}
