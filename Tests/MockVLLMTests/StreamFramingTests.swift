import Testing

@testable import MockVLLM

@Suite("Streaming framing matches vLLM 0.32")
struct StreamFramingTests {
    @Test("chat stream with usage: the fixture's bytes except id and created")
    func chatStreamMatchesFixture() async throws {
        let fixture = try Fixtures.body("chat-stream")
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, body: Fixtures.chatStreamRequest)
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == ["text/event-stream; charset=utf-8"])
        #expect(response.header("content-length").isEmpty)
        #expect(BodyText.normalized(response.body) == BodyText.normalized(fixture))

        let events = try #require(BodyText.events(response.body))
        #expect(events.count == 11)
        #expect(events.last == "[DONE]")
        let ids = Set(events.dropLast().compactMap(BodyText.id(of:)))
        #expect(ids.count == 1)
        #expect(BodyText.isVLLMID(try #require(ids.first), prefix: "chatcmpl-"))
        #expect(events[9].contains(#""choices":[],"usage":{"prompt_tokens":10,"total_tokens":18,"completion_tokens":8}"#))
    }

    @Test("chat stream without stream_options: no usage chunk, fingerprint on the finishing chunk")
    func chatStreamWithoutUsage() async throws {
        let response = try await withMockVLLM { port in
            try await TestClient.post(
                port: port,
                body: #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":5,"stream":true}"#
            )
        }
        let events = try #require(BodyText.events(response.body))
        #expect(events.count == 7)  // role, 5 tokens, [DONE]
        #expect(events.allSatisfy { !$0.contains("usage") })
        #expect(events[0].contains(#""delta":{"role":"assistant","content":""}"#))
        #expect(events[5].contains(#""finish_reason":"length","stop_reason":null"#))
        #expect(events[5].hasSuffix(#""system_fingerprint":"vllm-0.32.0-1b32d587"}"#))
        #expect(events[1..<5].allSatisfy { $0.contains(#""finish_reason":null"#) })
        #expect(events.last == "[DONE]")
    }

    @Test("completion stream: the fixture's framing (texts aside: the last token differs)")
    func completionStreamMatchesFixture() async throws {
        let fixture = try Fixtures.body("completion-stream")
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/completions", body: Fixtures.completionStreamRequest)
        }
        #expect(response.status == 200)
        #expect(BodyText.blankingTexts(BodyText.normalized(response.body)) == BodyText.blankingTexts(BodyText.normalized(fixture)))
        let events = try #require(BodyText.events(response.body))
        #expect(events.count == 9)
        #expect(BodyText.isVLLMID(try #require(BodyText.id(of: events[0])), prefix: "cmpl-"))
        #expect(Set(events.dropLast().compactMap(BodyText.id(of:))).count == 1)
    }

    @Test("completion stream with include_usage ends with a usage chunk")
    func completionStreamWithUsage() async throws {
        let response = try await withMockVLLM { port in
            try await TestClient.post(
                port: port,
                path: "/v1/completions",
                body: #"{"prompt":"hello","max_tokens":3,"stream":true,"stream_options":{"include_usage":true}}"#
            )
        }
        let events = try #require(BodyText.events(response.body))
        #expect(events.count == 5)  // 3 tokens, usage, [DONE]
        #expect(events[3].contains(#""choices":[],"usage":{"prompt_tokens":2,"total_tokens":5,"completion_tokens":3}"#))
        #expect(!events[2].contains("system_fingerprint"))
    }

    @Test(
        "the token count is --tokens, lowered by max_tokens",
        arguments: [(tokens: 8, maxTokens: nil as Int?, expected: 8), (8, 3, 3), (4, 100, 4), (30, 25, 25)]
    )
    func tokenCount(_ vector: (tokens: Int, maxTokens: Int?, expected: Int)) async throws {
        let maxTokens = vector.maxTokens.map { #","max_tokens":\#($0)"# } ?? ""
        let response = try await withMockVLLM(configuration: .init(tokens: vector.tokens)) { port in
            try await TestClient.post(port: port, body: #"{"messages":[],"stream":true\#(maxTokens)}"#)
        }
        let events = try #require(BodyText.events(response.body))
        #expect(events.count == vector.expected + 2)  // role and [DONE] around the tokens
    }

    @Test("every request gets a fresh id")
    func freshIDs() async throws {
        let ids = try await withMockVLLM { port in
            var ids: [String] = []
            for _ in 0..<3 {
                let response = try await TestClient.post(port: port, body: #"{"stream":true}"#)
                let events = try #require(BodyText.events(response.body))
                ids += Set(events.dropLast().compactMap(BodyText.id(of:)))
            }
            return ids
        }
        #expect(ids.count == 3)
        #expect(Set(ids).count == 3)
    }

    @Test("generated tokens carry escaped control characters and raw multi-byte UTF-8")
    func realisticBytes() async throws {
        let response = try await withMockVLLM(configuration: .init(tokens: 40)) { port in
            try await TestClient.post(port: port, body: #"{"stream":true}"#)
        }
        let text = response.bodyText
        #expect(text.contains(#"\u0010"#))
        #expect(text.contains("\u{FFFD}"))
        #expect(text.contains("😀"))
        #expect(response.body.firstRange(of: [0xEF, 0xBF, 0xBD]) != nil)
        // Every event payload is JSON our parser (Python's rules) accepts.
        let events = try #require(BodyText.events(response.body))
        for event in events.dropLast() {
            #expect((try? JSONParser.parse(Array(event.utf8)).get()) != nil)
        }
    }
}
