import Foundation
import Testing

@testable import MockVLLM

@Suite("Anthropic Messages API matches vLLM 0.32's captures")
struct MessagesAPITests {
    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("non-streamed: the capture's fields (stop_sequence dropped as vLLM drops nulls), a chatcmpl- id")
    func nonStreamed() async throws {
        let fixture = try Fixtures.routeBody("messages")
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/messages", body: try Fixtures.routeRequest("messages"))
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == ["application/json"])
        #expect(JSONSkeleton.of(response.body) == JSONSkeleton.of(fixture))
        let body = try Self.object(response.body)
        #expect(BodyText.isVLLMID(try #require(body["id"] as? String), prefix: "chatcmpl-"))
        #expect(body["stop_reason"] as? String == "max_tokens")
    }

    @Test("an answer that ends before max_tokens stops with end_turn")
    func endTurn() async throws {
        let response = try await withMockVLLM(configuration: .init(tokens: 3)) { port in
            try await TestClient.post(port: port, path: "/v1/messages", body: #"{"model":"tiny","max_tokens":50,"messages":[]}"#)
        }
        #expect(try Self.object(response.body)["stop_reason"] as? String == "end_turn")
    }

    @Test("streamed: message_start with message.id, content blocks, message_delta, message_stop; no [DONE]")
    func streamed() async throws {
        let fixture = try #require(NamedSSEEvent.parse(try Fixtures.routeBody("messages-stream")))
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/messages", body: try Fixtures.routeRequest("messages-stream"))
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == ["text/event-stream; charset=utf-8"])
        let events = try #require(NamedSSEEvent.parse(response.body))
        #expect(NamedSSEEvent.collapsedNames(events) == NamedSSEEvent.collapsedNames(fixture))
        #expect(NamedSSEEvent.skeletons(events) == NamedSSEEvent.skeletons(fixture))
        #expect(events.last == NamedSSEEvent(name: "message_stop", data: #"{"type":"message_stop"}"#))
        #expect(!response.bodyText.contains("[DONE]"))
        let start = try Self.object(Array(events[0].data.utf8))
        #expect(BodyText.isVLLMID(try #require((start["message"] as? [String: Any])?["id"] as? String), prefix: "chatcmpl-"))
        for event in events {
            #expect(try Self.object(Array(event.data.utf8))["type"] as? String == event.name)
        }
    }

    @Test("count_tokens answers input_tokens only; max_tokens is not required there")
    func countTokens() async throws {
        let (count, message) = try await withMockVLLM { port in
            let body = #"{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"#
            return (
                try await TestClient.post(port: port, path: "/v1/messages/count_tokens", body: body),
                try await TestClient.post(port: port, path: "/v1/messages", body: #"{"model":"tiny","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#)
            )
        }
        #expect(count.status == 200)
        let input = try #require(try Self.object(count.body)["input_tokens"] as? Int)
        #expect(count.bodyText == #"{"input_tokens":\#(input),"context_management":{"original_input_tokens":\#(input)}}"#)
        #expect(JSONSkeleton.of(count.body) == JSONSkeleton.of(try Fixtures.routeBody("messages-count-tokens")))
        #expect((try Self.object(message.body)["usage"] as? [String: Int])?["input_tokens"] == input)
    }

    @Test("errors: the captured unknown-model body byte for byte (the Messages shape); validation errors in vLLM's envelope")
    func errors() async throws {
        let responses = try await withMockVLLM { port in
            [
                try await TestClient.post(port: port, path: "/v1/messages", body: try Fixtures.routeRequest("error-messages-unknown-model")),
                try await TestClient.post(port: port, path: "/v1/messages", body: #"{"model":"tiny","messages":[]}"#),
                try await TestClient.post(port: port, path: "/v1/messages", body: #"{"model":"tiny","max_tokens":100000,"messages":[]}"#),
                try await TestClient.post(port: port, path: "/v1/messages", body: #"{"max_tokens":4,"messages":[]}"#),
            ]
        }
        #expect(responses[0].status == 404)
        #expect(responses[0].body == (try Fixtures.routeBody("error-messages-unknown-model")))
        #expect(responses[1].status == 400)
        #expect(responses[1].bodyText.contains(#""param":"body.max_tokens""#))
        #expect(responses[2].status == 400)
        #expect(responses[2].bodyText.hasPrefix(#"{"type":"error","error":{"type":"BadRequestError","message":"max_tokens=100000"#))
        #expect(responses[3].status == 400)
        #expect(responses[3].bodyText.contains("'loc': 'body.model'"))
    }

    @Test("a forced status is worded in the Messages shape on its routes")
    func forcedStatus() async throws {
        let response = try await withMockVLLM(configuration: .init(forcedStatus: 503)) { port in
            try await TestClient.post(port: port, path: "/v1/messages", body: "{}")
        }
        #expect(response.status == 503)
        #expect(response.bodyText == #"{"type":"error","error":{"type":"ServiceUnavailableError","message":"Service Unavailable"}}"#)
    }
}
