import Testing

@testable import MockVLLM

@Suite("Faults on the Responses and Messages streams: cuts before the terminal event, broken ends, pacing")
struct RouteFaultsTests {
    static let responsesStream = #"{"input":"hello","stream":true}"#
    static let messagesStream = #"{"model":"tiny","max_tokens":8,"messages":[{"role":"user","content":"hi"}],"stream":true}"#

    @Test(
        "fail-after cuts a stream before its terminal event: no terminating chunk, connection closed",
        arguments: [("/v1/responses", responsesStream, "response.completed"), ("/v1/messages", messagesStream, "message_stop")]
    )
    func failAfter(_ vector: (path: String, body: String, terminal: String)) async throws {
        let stats = MockVLLMStats()
        let exchange = try await withMockVLLM(configuration: .init(failAfter: 3), stats: stats) { port in
            try await RawHTTPExchange.post(port: port, path: vector.path, body: vector.body)
        }
        #expect(exchange.head.hasPrefix("HTTP/1.1 200 OK"))
        #expect(exchange.serverClosed)
        let body = ChunkedBody(decoding: exchange.rawBody)
        #expect(!body.isComplete)
        let events = try #require(NamedSSEEvent.parse(body.payload))
        #expect(events.count == 3)
        #expect(!events.contains { $0.name == vector.terminal })
        #expect(stats.snapshot.streamsCut == 1)
    }

    @Test("mock_fail_after (request faults) cuts one Messages stream; the next request is whole")
    func requestFailAfter() async throws {
        let cut = #"{"model":"tiny","max_tokens":8,"messages":[],"stream":true,"mock_fail_after":5}"#
        let (first, second) = try await withMockVLLM(configuration: .init(requestFaults: true)) { port in
            (
                try await RawHTTPExchange.post(port: port, path: "/v1/messages", body: cut),
                try await RawHTTPExchange.post(port: port, path: "/v1/messages", body: Self.messagesStream)
            )
        }
        #expect(!ChunkedBody(decoding: first.rawBody).isComplete)
        #expect(NamedSSEEvent.parse(ChunkedBody(decoding: first.rawBody).payload)?.count == 5)
        let whole = ChunkedBody(decoding: second.rawBody)
        #expect(whole.isComplete)
        #expect(NamedSSEEvent.parse(whole.payload)?.last?.name == "message_stop")
    }

    @Test(
        "mock_terminal replaces the terminal event; the body still ends cleanly",
        arguments: [
            ("/v1/responses", #"{"input":"x","stream":true,"mock_terminal":"error"}"#, "error"),
            ("/v1/responses", #"{"input":"x","stream":true,"mock_terminal":"failed"}"#, "response.failed"),
            ("/v1/responses", #"{"input":"x","stream":true,"mock_terminal":"incomplete"}"#, "response.incomplete"),
            ("/v1/messages", #"{"model":"tiny","max_tokens":4,"messages":[],"stream":true,"mock_terminal":"error"}"#, "error"),
        ]
    )
    func terminal(_ vector: (path: String, body: String, last: String)) async throws {
        let exchange = try await withMockVLLM(configuration: .init(requestFaults: true)) { port in
            try await RawHTTPExchange.post(port: port, path: vector.path, body: vector.body)
        }
        let body = ChunkedBody(decoding: exchange.rawBody)
        #expect(body.isComplete)
        let events = try #require(NamedSSEEvent.parse(body.payload))
        #expect(events.last?.name == vector.last)
        #expect(!events.contains { $0.name == "response.completed" || $0.name == "message_stop" })
        #expect(events.last?.data.contains(#""type":"\#(vector.last)""#) == true)
    }

    @Test(
        "mock_terminal on a chat or text stream: vLLM's error event in place of the finishing chunk, no usage, then [DONE]",
        arguments: ["/v1/chat/completions", "/v1/completions"]
    )
    func completionStreamError(_ path: String) async throws {
        let body = #"{"prompt":"x","messages":[],"max_tokens":4,"stream":true,"stream_options":{"include_usage":true},"mock_terminal":"error"}"#
        let exchange = try await withMockVLLM(configuration: .init(requestFaults: true)) { port in
            try await RawHTTPExchange.post(port: port, path: path, body: body)
        }
        let chunked = ChunkedBody(decoding: exchange.rawBody)
        #expect(chunked.isComplete)
        let events = try #require(BodyText.events(chunked.payload))
        #expect(events.count == (path.hasSuffix("chat/completions") ? 1 : 0) + 4 + 1)
        #expect(events.suffix(2) == [
            #"{"error":{"message":"mock-vllm: injected stream error","type":"InternalServerError","param":null,"code":500}}"#,
            "[DONE]",
        ])
        let text = String(decoding: chunked.payload, as: UTF8.self)
        #expect(!text.contains(#""finish_reason":"length""#))
        #expect(!text.contains(#""usage""#))
    }

    @Test("without request faults the mock fields are ignored, as vLLM ignores unknown fields")
    func faultsOff() async throws {
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"x","stream":true,"mock_terminal":"error","mock_fail_after":1}"#)
        }
        #expect(NamedSSEEvent.parse(response.body)?.last?.name == "response.completed")
    }

    @Test("bad fault fields are refused", arguments: [#"{"input":"x","mock_terminal":"boom"}"#, #"{"input":"x","mock_fail_after":-1}"#])
    func badFaultFields(_ body: String) async throws {
        let response = try await withMockVLLM(configuration: .init(requestFaults: true)) { port in
            try await TestClient.post(port: port, path: "/v1/responses", body: body)
        }
        #expect(response.status == 400)
    }

    @Test("split writes send the same Responses stream in many more chunks")
    func splitWrites() async throws {
        let plain = try await withMockVLLM { port in
            try await RawHTTPExchange.post(port: port, path: "/v1/responses", body: Self.responsesStream)
        }
        let split = try await withMockVLLM(configuration: .init(splitWrites: true)) { port in
            try await RawHTTPExchange.post(port: port, path: "/v1/responses", body: Self.responsesStream)
        }
        let plainBody = ChunkedBody(decoding: plain.rawBody)
        let splitBody = ChunkedBody(decoding: split.rawBody)
        #expect(plainBody.isComplete && splitBody.isComplete)
        let plainEvents = try #require(NamedSSEEvent.parse(plainBody.payload))
        let splitEvents = try #require(NamedSSEEvent.parse(splitBody.payload))
        #expect(plainEvents.map(\.name) == splitEvents.map(\.name))
        #expect(NamedSSEEvent.skeletons(plainEvents) == NamedSSEEvent.skeletons(splitEvents))
        #expect(plainBody.chunkSizes.count == plainEvents.count)
        #expect(splitBody.chunkSizes.count >= 4 * splitEvents.count)
    }

    @Test("a paced Messages stream notices a client that leaves")
    func pacedAbort() async throws {
        let stats = MockVLLMStats()
        let configuration = MockVLLMConfiguration(tokens: 200, delay: .milliseconds(50))
        let noticed = try await withMockVLLM(configuration: configuration, stats: stats) { port in
            _ = try await RawHTTPExchange.post(port: port, path: "/v1/messages", body: Self.messagesStream.replacing(#""max_tokens":8"#, with: #""max_tokens":200"#)) {
                ChunkedBody(decoding: $0.rawBody).payload.count(of: Array("event: ".utf8)) >= 3
            }
            return await stats.waitUntil(timeout: .seconds(5)) { $0.streamsAborted == 1 }
        }
        #expect(noticed)
        #expect(stats.snapshot.streamsCompleted == 0)
    }

    @Test("administrative routes answer 200 and are counted; other paths 404")
    func adminRoutes() async throws {
        let stats = MockVLLMStats()
        let responses = try await withMockVLLM(stats: stats) { port in
            [
                try await TestClient.post(port: port, path: "/sleep", body: ""),
                try await TestClient.post(port: port, path: "/load_lora_adapter", body: #"{"lora_name":"x","lora_path":"/x"}"#),
                try await TestClient.get(port: port, path: "/is_sleeping"),
                try await TestClient.get(port: port, path: "/wake_up"),
                try await TestClient.post(port: port, path: "/v1/no/such/route", body: "{}"),
            ]
        }
        #expect(responses.map(\.status) == [200, 200, 200, 405, 404])
        #expect(responses[2].bodyText == #"{"is_sleeping":false}"#)
        #expect(stats.snapshot.adminRequests == 3)
    }
}
