import Testing

@testable import MockVLLM

@Suite("vLLM-style error answers")
struct ErrorResponseTests {
    static let hello = #""messages":[{"role":"user","content":"hello"}]"#

    @Test(
        "fixture errors are reproduced byte for byte",
        arguments: [
            ("error-unknown-model", 404, #"{"model":"nope",\#(hello),"max_tokens":8}"#),
            ("error-too-long", 400, #"{"model":"tiny",\#(hello),"max_tokens":100000}"#),
            ("error-stream-too-long", 400, #"{"model":"tiny",\#(hello),"max_tokens":100000,"stream":true}"#),
            ("error-bad-json", 400, #"{"model":"tiny","#),
        ]
    )
    func fixtureErrors(_ vector: (fixture: String, status: Int, request: String)) async throws {
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, body: vector.request)
        }
        #expect(response.status == vector.status)
        #expect(response.header("content-type") == ["application/json"])
        #expect(response.header("content-length") == ["\(response.body.count)"])
        #expect(response.body == (try Fixtures.body(vector.fixture)))
    }

    @Test(
        "malformed bodies report Python's position and message",
        arguments: [
            (#"{"model":"tiny","messages":[}"#, 28, #"'Expecting value'"#),
            ("", 0, #"'Expecting value'"#),
            // Python's repr switches to double quotes around a message holding single quotes.
            (#"{"prompt":"é" "x"}"#, 14, #"\"Expecting ',' delimiter\""#),
        ]
    )
    func badJSON(_ vector: (body: String, position: Int, reason: String)) async throws {
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/completions", body: vector.body)
        }
        #expect(response.status == 400)
        #expect(
            response.bodyText
                == #"{"error":{"message":"1 validation error:\n  {'type': 'json_invalid', 'loc': 'body.\#(vector.position)', 'msg': 'JSON decode error', 'input': '<dict of 0 items>', 'ctx': {'error': \#(vector.reason)}}","type":"Bad Request","param":"body.\#(vector.position)","code":400}}"#
        )
    }

    @Test("invalid fields: max_tokens below 1, wrong types, a body that is not an object")
    func invalidFields() async throws {
        let responses = try await withMockVLLM { port in
            [
                try await TestClient.post(port: port, body: #"{"max_tokens":0}"#),
                try await TestClient.post(port: port, body: #"{"max_tokens":"8"}"#),
                try await TestClient.post(port: port, body: #"{"model":7}"#),
                try await TestClient.post(port: port, body: #"{"stream":"yes"}"#),
                try await TestClient.post(port: port, body: "[]"),
            ]
        }
        #expect(responses.allSatisfy { $0.status == 400 })
        #expect(
            responses[0].bodyText
                == #"{"error":{"message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":"max_tokens","code":400}}"#
        )
        #expect(responses[1].bodyText.contains(#""param":"body.max_tokens""#))
        #expect(responses[2].bodyText.contains(#""param":"body.model""#))
        #expect(responses[3].bodyText.contains(#""param":"body.stream""#))
        #expect(responses[4].bodyText.contains(#""param":"body""#))
    }

    @Test("the boundary max_tokens == max_model_len is accepted")
    func maxTokensAtLimit() async throws {
        let response = try await withMockVLLM(configuration: .init(tokens: 2)) { port in
            try await TestClient.post(port: port, body: #"{"max_tokens":512}"#)
        }
        #expect(response.status == 200)
    }

    @Test("forcedStatus answers every completion request (streaming too) with that status")
    func forcedStatus() async throws {
        let stats = MockVLLMStats()
        let responses = try await withMockVLLM(configuration: .init(forcedStatus: 503), stats: stats) { port in
            [
                try await TestClient.post(port: port, body: Fixtures.chatStreamRequest),
                try await TestClient.post(port: port, path: "/v1/completions", body: "not json"),
                try await TestClient.get(port: port, path: "/v1/models"),
            ]
        }
        let expected = #"{"error":{"message":"Service Unavailable","type":"ServiceUnavailableError","param":null,"code":503}}"#
        #expect(responses[0].status == 503)
        #expect(responses[0].bodyText == expected)
        #expect(responses[1].status == 503)
        #expect(responses[1].bodyText == expected)
        #expect(responses[2].status == 200)
        #expect(stats.snapshot.completionRequests == 2)
    }

    @Test("forced error types follow vLLM's exception names", arguments: [
        (500, "Internal Server Error", "InternalServerError"),
        (429, "Too Many Requests", "TooManyRequestsError"),
        (400, "Bad Request", "BadRequestError"),
        (599, "HTTP 599", "HTTP599Error"),
    ])
    func forcedTypes(_ vector: (status: Int, message: String, type: String)) {
        let error = VLLMErrorResponse.forced(status: vector.status)
        #expect(error.message == vector.message)
        #expect(error.type == vector.type)
        #expect(error.param == nil)
    }
}
