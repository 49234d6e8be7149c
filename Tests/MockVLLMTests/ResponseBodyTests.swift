import Testing

@testable import MockVLLM

@Suite("Non-streaming bodies and the other routes")
struct ResponseBodyTests {
    @Test("chat completion: chat.body's bytes except id and created")
    func chatBody() async throws {
        let fixture = try Fixtures.body("chat")
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, body: Fixtures.chatRequest)
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == ["application/json"])
        #expect(response.header("content-length") == ["\(response.body.count)"])
        #expect(response.header("vary") == ["Origin"])
        #expect(BodyText.normalized(response.body) == BodyText.normalized(fixture))
        #expect(BodyText.isVLLMID(try #require(BodyText.id(of: response.bodyText)), prefix: "chatcmpl-"))
    }

    @Test("text completion: completion.body's shape")
    func completionBody() async throws {
        let fixture = try Fixtures.body("completion")
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/completions", body: Fixtures.completionRequest)
        }
        #expect(response.status == 200)
        #expect(BodyText.blankingTexts(BodyText.normalized(response.body)) == BodyText.blankingTexts(BodyText.normalized(fixture)))
        #expect(BodyText.isVLLMID(try #require(BodyText.id(of: response.bodyText)), prefix: "cmpl-"))
    }

    @Test("the non-streaming text is the concatenation of the streamed tokens")
    func streamAndBodyAgree() async throws {
        let (stream, body) = try await withMockVLLM(configuration: .init(tokens: 25)) { port in
            (
                try await TestClient.post(port: port, body: #"{"stream":true}"#),
                try await TestClient.post(port: port, body: #"{}"#)
            )
        }
        let events = try #require(BodyText.events(stream.body))
        let pieces = events.dropFirst().dropLast().map { event -> String in
            guard let start = event.range(of: #""content":""#) else { return "" }
            let rest = event[start.upperBound...]
            return String(rest[..<(rest.range(of: #""},"logprobs""#)?.lowerBound ?? rest.endIndex)])
        }
        #expect(body.bodyText.contains(#""content":"\#(pieces.joined())","refusal":null"#))
    }

    @Test("GET /v1/models: models.body's shape for the configured model")
    func models() async throws {
        let fixture = try Fixtures.body("models")
        let tiny = try await withMockVLLM { port in
            try await TestClient.get(port: port, path: "/v1/models")
        }
        let other = try await withMockVLLM(configuration: .init(model: "org/other")) { port in
            try await TestClient.get(port: port, path: "/v1/models")
        }
        #expect(tiny.status == 200)
        #expect(BodyText.normalized(tiny.body) == BodyText.normalized(fixture))
        #expect(other.bodyText.contains(#"{"id":"org/other","object":"model""#))
        #expect(other.bodyText.contains(#""root":"/models/org/other""#))
    }

    @Test("GET /health answers 200 with an empty body; GET /metrics counts tokens")
    func healthAndMetrics() async throws {
        let (health, metrics) = try await withMockVLLM { port in
            _ = try await TestClient.post(port: port, body: Fixtures.chatRequest)
            return (try await TestClient.get(port: port, path: "/health"), try await TestClient.get(port: port, path: "/metrics"))
        }
        #expect(health.status == 200)
        #expect(health.body.isEmpty)
        #expect(metrics.status == 200)
        #expect(metrics.header("content-type").first?.hasPrefix("text/plain") == true)
        #expect(metrics.bodyText.contains("vllm:prompt_tokens_total{model_name=\"tiny\"} 10.0\n"))
        #expect(metrics.bodyText.contains("vllm:generation_tokens_total{model_name=\"tiny\"} 8.0\n"))
        #expect(metrics.bodyText.contains("# TYPE vllm:num_requests_running gauge\n"))
    }

    @Test("unknown routes get FastAPI's 404, wrong methods its 405")
    func unknownRoutes() async throws {
        let (missing, wrongMethod) = try await withMockVLLM { port in
            (try await TestClient.get(port: port, path: "/v2/nothing"), try await TestClient.get(port: port, path: "/v1/chat/completions"))
        }
        #expect(missing.status == 404)
        #expect(missing.bodyText == #"{"detail":"Not Found"}"#)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.bodyText == #"{"detail":"Method Not Allowed"}"#)
    }

    @Test("stats record every request, and the last API request's path, headers and body bytes")
    func statsRecordRequests() async throws {
        let stats = MockVLLMStats()
        let body = #"{"model":"tiny","messages":[{"role":"user","content":"\u00e9 é"}]}"#
        try await withMockVLLM(stats: stats) { port in
            _ = try await TestClient.post(port: port, body: body)
            _ = try await TestClient.get(port: port, path: "/health")
        }
        let snapshot = stats.snapshot
        #expect(snapshot.requests == 2)
        #expect(snapshot.completionRequests == 1)
        #expect(snapshot.lastRequestPath == "/v1/chat/completions")
        #expect(snapshot.lastRequestBodyBytes == Array(body.utf8))
        #expect(snapshot.lastRequestHeaders?[.contentType] == "application/json")
        #expect(snapshot.streamsStarted == 0)
    }
}
