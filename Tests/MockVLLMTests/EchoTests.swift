import Foundation
import Testing

@testable import MockVLLM

@Suite("Echo: answers carry the prompt (--echo)")
struct EchoTests {
    private struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { var content: String? }
            var delta: Delta?
            var text: String?
        }
        var choices: [Choice]
    }

    private struct Answer: Decodable {
        struct Choice: Decodable {
            struct Message: Decodable { var content: String? }
            var message: Message?
            var text: String?
        }
        var choices: [Choice]
    }

    private static let prompt = "Echo me: caf\u{E9} \u{4E16}\u{754C} \u{1F600} \"quoted\"\nback\\slash"

    @Test("a streamed chat answer's deltas join to the last user message, cut at character boundaries")
    func streamedChat() async throws {
        let body = try Self.json([
            "stream": true,
            "messages": [
                ["role": "user", "content": "an earlier question"], ["role": "assistant", "content": "an answer"],
                ["role": "user", "content": Self.prompt],
            ],
        ])
        let response = try await withMockVLLM(configuration: .init(tokens: 5, echo: true)) { port in
            try await TestClient.post(port: port, body: body)
        }
        let events = try #require(BodyText.events(response.body))
        #expect(events.last == "[DONE]")
        let deltas = try events.dropLast().map { try JSONDecoder().decode(Chunk.self, from: Data($0.utf8)) }
            .compactMap { $0.choices.first?.delta?.content }
        #expect(deltas.count == 6)  // the role chunk's "" and 5 pieces
        #expect(deltas.joined() == Self.prompt)
        #expect(deltas.dropFirst().allSatisfy { !$0.isEmpty })
    }

    @Test("non-streamed chat with text parts, and completions: the prompt comes back whole")
    func nonStreamed() async throws {
        let chat = try Self.json([
            "messages": [["role": "user", "content": [["type": "text", "text": "part one, "], ["type": "text", "text": "part two"]]]]
        ])
        let completion = try Self.json(["prompt": Self.prompt, "max_tokens": 2, "stream": true])
        let (chatAnswer, streamed) = try await withMockVLLM(configuration: .init(echo: true)) { port in
            (
                try await TestClient.post(port: port, body: chat),
                try await TestClient.post(port: port, path: "/v1/completions", body: completion)
            )
        }
        let decoded = try JSONDecoder().decode(Answer.self, from: Data(chatAnswer.body))
        #expect(decoded.choices.first?.message?.content == "part one, part two")
        let events = try #require(BodyText.events(streamed.body))
        let texts = try events.dropLast().map { try JSONDecoder().decode(Chunk.self, from: Data($0.utf8)) }
            .compactMap { $0.choices.first?.text }
        #expect(texts.count == 2)  // max_tokens lowers the number of pieces
        #expect(texts.joined() == Self.prompt)
    }

    @Test("a system message comes back as reasoning: vLLM 0.32's field, or reasoning_content when asked; streamed first")
    func reasoning() async throws {
        struct Message: Decodable {
            var content: String?
            var reasoning: String?
            var reasoning_content: String?
        }
        struct Answer: Decodable {
            struct Choice: Decodable {
                var message: Message?
                var delta: Message?
            }
            var choices: [Choice]
        }
        let messages: [[String: Any]] = [["role": "system", "content": "Think \u{E9}"], ["role": "user", "content": Self.prompt]]
        let (plain, older, streamed) = try await withMockVLLM(configuration: .init(tokens: 3, echo: true)) { port in
            (
                try await TestClient.post(port: port, body: try Self.json(["messages": messages])),
                try await TestClient.post(
                    port: port, body: try Self.json(["messages": messages, "mock_reasoning_field": "reasoning_content"])),
                try await TestClient.post(port: port, body: try Self.json(["messages": messages, "stream": true]))
            )
        }
        let message = try JSONDecoder().decode(Answer.self, from: Data(plain.body)).choices.first?.message
        #expect(message?.reasoning == "Think \u{E9}" && message?.content == Self.prompt && message?.reasoning_content == nil)
        let olderMessage = try JSONDecoder().decode(Answer.self, from: Data(older.body)).choices.first?.message
        #expect(olderMessage?.reasoning_content == "Think \u{E9}" && olderMessage?.reasoning == nil)
        #expect(older.bodyText.contains(#""reasoning":null,"reasoning_content":"#))
        let deltas = try #require(BodyText.events(streamed.body)).dropLast().map {
            try JSONDecoder().decode(Answer.self, from: Data($0.utf8)).choices.first?.delta
        }
        #expect(deltas.compactMap { $0?.reasoning }.joined() == "Think \u{E9}")
        #expect(deltas.compactMap { $0?.content }.joined() == Self.prompt)
        let firstContent = deltas.dropFirst().firstIndex { $0?.content != nil } ?? 0
        let lastReasoning = deltas.lastIndex { $0?.reasoning != nil } ?? Int.max
        #expect(lastReasoning < firstContent)
    }

    @Test("without --echo the generated tokens are unchanged")
    func offByDefault() async throws {
        let body = try Self.json(["messages": [["role": "user", "content": Self.prompt]]])
        let response = try await withMockVLLM(configuration: .init(tokens: 3)) { port in
            try await TestClient.post(port: port, body: body)
        }
        let decoded = try JSONDecoder().decode(Answer.self, from: Data(response.body))
        #expect(decoded.choices.first?.message?.content?.contains("Echo me") == false)
    }

    @Test("--request-log-bodies writes each body's text; without it the log has no body member")
    func requestLogBodies() async throws {
        let base = NSTemporaryDirectory() + "mock-vllm-echo-log-\(UInt64.random(in: 0...UInt64.max))"
        defer { for suffix in ["-a", "-b"] { try? FileManager.default.removeItem(atPath: base + suffix) } }
        let body = try Self.json(["prompt": Self.prompt])
        for (suffix, bodies) in [("-a", true), ("-b", false)] {
            _ = try await withMockVLLM(configuration: .init(requestLogPath: base + suffix, requestLogBodies: bodies)) { port in
                _ = try await TestClient.get(port: port, path: "/health")
                return try await TestClient.post(port: port, path: "/v1/completions", body: body)
            }
            let lines = try String(contentsOfFile: base + suffix, encoding: .utf8).split(separator: "\n").map { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            }
            #expect(lines.count == 2)
            if bodies {
                #expect(lines[0]["body"] is NSNull)
                #expect(lines[1]["body"] as? String == body)
            } else {
                #expect(lines.allSatisfy { $0["body"] == nil })
            }
        }
    }

    private static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }
}
