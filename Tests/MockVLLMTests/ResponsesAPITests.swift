import Foundation
import Testing

@testable import MockVLLM

@Suite("Responses API matches vLLM 0.32's captures")
struct ResponsesAPITests {
    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("non-streamed: the capture's fields in its order, resp_ and msg_ ids, incomplete at max_output_tokens")
    func nonStreamed() async throws {
        let fixture = try Fixtures.routeBody("responses")
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/responses", body: try Fixtures.routeRequest("responses"))
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == ["application/json"])
        #expect(response.header("content-length") == ["\(response.body.count)"])
        #expect(JSONSkeleton.of(response.body) == JSONSkeleton.of(fixture))
        let body = try Self.object(response.body)
        #expect(BodyText.isVLLMID(try #require(body["id"] as? String), prefix: "resp_"))
        #expect(body["status"] as? String == "incomplete")
        #expect((body["incomplete_details"] as? [String: String]) == ["reason": "max_output_tokens"])
        let output = try #require((body["output"] as? [[String: Any]])?.first)
        #expect(BodyText.isVLLMID(try #require(output["id"] as? String), prefix: "msg_"))
        let usage = try #require(body["usage"] as? [String: Any])
        #expect(usage["output_tokens"] as? Int == 8)
    }

    @Test("an answer that ends before max_output_tokens is completed, without incomplete_details")
    func completed() async throws {
        let response = try await withMockVLLM(configuration: .init(tokens: 4)) { port in
            try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"hi","max_output_tokens":50,"temperature":0.5}"#)
        }
        let body = try Self.object(response.body)
        #expect(body["status"] as? String == "completed")
        #expect(body["incomplete_details"] is NSNull)
        #expect(body["temperature"] as? Double == 0.5)
        #expect(response.bodyText.contains(#""temperature":0.5,"#))
        #expect(response.bodyText.contains(#""max_output_tokens":50,"#))
    }

    @Test("streamed: the capture's events in order, each shaped as captured, response.id in the first, no [DONE]")
    func streamed() async throws {
        let fixture = try #require(NamedSSEEvent.parse(try Fixtures.routeBody("responses-stream")))
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/responses", body: try Fixtures.routeRequest("responses-stream"))
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == ["text/event-stream; charset=utf-8"])
        #expect(response.header("content-length").isEmpty)
        let events = try #require(NamedSSEEvent.parse(response.body))
        #expect(NamedSSEEvent.collapsedNames(events) == NamedSSEEvent.collapsedNames(fixture))
        #expect(NamedSSEEvent.skeletons(events) == NamedSSEEvent.skeletons(fixture))
        #expect(events.first?.name == "response.created")
        #expect(events.last?.name == "response.completed")
        #expect(!response.bodyText.contains("[DONE]"))

        let first = try Self.object(Array(events[0].data.utf8))
        let id = try #require((first["response"] as? [String: Any])?["id"] as? String)
        #expect(BodyText.isVLLMID(id, prefix: "resp_"))
        for (index, event) in events.enumerated() {
            let data = try Self.object(Array(event.data.utf8))
            #expect(data["type"] as? String == event.name)
            #expect(data["sequence_number"] as? Int == index)
            if let inner = data["response"] as? [String: Any] { #expect(inner["id"] as? String == id) }
        }
        let last = try Self.object(Array(events.last!.data.utf8))
        #expect((last["response"] as? [String: Any])?["status"] as? String == "incomplete")
        // The deltas add up to the final text.
        let deltas = try events.filter { $0.name == "response.output_text.delta" }.map {
            try #require(try Self.object(Array($0.data.utf8))["delta"] as? String)
        }
        let done = try Self.object(Array(try #require(events.first { $0.name == "response.output_text.done" }).data.utf8))
        #expect(deltas.joined() == done["text"] as? String)
        #expect(!deltas.contains(""))
    }

    @Test("a stored answer is served again by GET /v1/responses/{id}; cancel, unknown and malformed ids get vLLM's errors")
    func storedResponses() async throws {
        try await withMockVLLM { port in
            let created = try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"hello"}"#)
            let id = try #require(try Self.object(created.body)["id"] as? String)
            let fetched = try await TestClient.get(port: port, path: "/v1/responses/\(id)")
            #expect(fetched.status == 200)
            #expect(fetched.body == created.body)

            let cancel = try await TestClient.post(port: port, path: "/v1/responses/\(id)/cancel", body: "")
            #expect(cancel.status == 400)
            #expect(cancel.body == (try Fixtures.routeBody("responses-cancel-completed")))

            let unknown = try await TestClient.get(port: port, path: "/v1/responses/resp_0000000000000000")
            #expect(unknown.status == 404)
            #expect(unknown.body == (try Fixtures.routeBody("responses-get-unknown")))
            let malformed = try await TestClient.get(port: port, path: "/v1/responses/chatcmpl-1")
            #expect(malformed.status == 400)
            #expect(malformed.bodyText.contains("Expected an ID that begins with 'resp'."))

            // A streamed answer is stored too; store:false is not.
            // After a stream, the GET is the final event's response object (`responses-get-after-stream`).
            let streamed = try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"x","stream":true}"#)
            let last = try #require(NamedSSEEvent.parse(streamed.body)?.last)
            let final = try Self.object(Array(last.data.utf8))["response"] as? [String: Any]
            let streamedID = try #require(final?["id"] as? String)
            let afterStream = try await TestClient.get(port: port, path: "/v1/responses/\(streamedID)")
            #expect(afterStream.status == 200)
            #expect(last.data.hasPrefix(#"{"response":"# + afterStream.bodyText + ","))
            let unstored = try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"x","store":false}"#)
            let unstoredID = try #require(try Self.object(unstored.body)["id"] as? String)
            #expect(try await TestClient.get(port: port, path: "/v1/responses/\(unstoredID)").status == 404)
        }
    }

    @Test("errors: the captured unknown-model body byte for byte; missing input; max_output_tokens bounds")
    func errors() async throws {
        let responses = try await withMockVLLM { port in
            [
                try await TestClient.post(port: port, path: "/v1/responses", body: try Fixtures.routeRequest("error-responses-unknown-model")),
                try await TestClient.post(port: port, path: "/v1/responses", body: #"{"model":"tiny"}"#),
                try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"x","max_output_tokens":0}"#),
                try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"x","max_output_tokens":100000}"#),
                try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":7}"#),
                try await TestClient.post(port: port, path: "/v1/responses", body: #"{"input":"#),
                try await TestClient.get(port: port, path: "/v1/responses"),
            ]
        }
        #expect(responses[0].status == 404)
        #expect(responses[0].body == (try Fixtures.routeBody("error-responses-unknown-model")))
        #expect(responses[1].status == 400)
        #expect(responses[1].bodyText.contains("'type': 'missing', 'loc': 'body.input'"))
        #expect(responses[2...5].allSatisfy { $0.status == 400 })
        #expect(responses[6].status == 405)
    }

    @Test("a streamed request refused up front gets vLLM's plain JSON 400, byte for byte")
    func streamTooLong() async throws {
        let response = try await withMockVLLM { port in
            try await TestClient.post(port: port, path: "/v1/responses", body: try Fixtures.routeRequest("error-responses-stream-too-long"))
        }
        #expect(response.status == 400)
        #expect(response.header("content-type") == ["application/json"])
        #expect(response.body == (try Fixtures.routeBody("error-responses-stream-too-long")))
    }

    @Test("the captures' own invariants hold for the mock: a finished stream ends with response.completed either way")
    func completedStream() async throws {
        let fixture = try #require(NamedSSEEvent.parse(try Fixtures.routeBody("responses-stream-completed")))
        let response = try await withMockVLLM(configuration: .init(tokens: 7)) { port in
            try await TestClient.post(port: port, path: "/v1/responses", body: #"{"model":"tiny","input":"Say hello","max_output_tokens":16,"stream":true}"#)
        }
        let events = try #require(NamedSSEEvent.parse(response.body))
        #expect(NamedSSEEvent.collapsedNames(events) == NamedSSEEvent.collapsedNames(fixture))
        let last = try Self.object(Array(events.last!.data.utf8))["response"] as? [String: Any]
        let capturedLast = try Self.object(Array(fixture.last!.data.utf8))["response"] as? [String: Any]
        #expect(last?["status"] as? String == "completed")
        #expect(capturedLast?["status"] as? String == "completed")
        #expect(last?["incomplete_details"] is NSNull)
        // The capture's GET after its stream is that stream's final response object.
        let capturedStored = try #require(NamedSSEEvent.parse(try Fixtures.routeBody("responses-stream-stored"))?.last)
        let capturedGet = String(decoding: try Fixtures.routeBody("responses-get-after-stream"), as: UTF8.self)
        #expect(capturedStored.data.hasPrefix(#"{"response":"# + capturedGet + ","))
    }

    @Test("background: answered at once as queued with the capture's fields; the GET then has the finished answer")
    func background() async throws {
        let (queued, fetched) = try await withMockVLLM { port in
            let queued = try await TestClient.post(port: port, path: "/v1/responses", body: try Fixtures.routeRequest("responses-background"))
            let id = try #require(try Self.object(queued.body)["id"] as? String)
            return (queued, try await TestClient.get(port: port, path: "/v1/responses/\(id)"))
        }
        #expect(queued.status == 200)
        #expect(JSONSkeleton.of(queued.body) == JSONSkeleton.of(try Fixtures.routeBody("responses-background")))
        #expect(fetched.status == 200)
        #expect(try Self.object(fetched.body)["status"] as? String == "completed")
    }

    @Test("a served path with a trailing slash is FastAPI's 307 to the path without it, at the address asked")
    func trailingSlash() async throws {
        let exchange = try await withMockVLLM { port in
            try await RawHTTPExchange.post(port: port, path: "/v1/chat/completions/", body: try Fixtures.routeRequest("chat-trailing-slash"))
        }
        #expect(exchange.head.hasPrefix("HTTP/1.1 307 Temporary Redirect"))
        // The exchange sends `Host: 127.0.0.1`; the location names that host, as Starlette builds it.
        #expect(exchange.head.lowercased().contains("location: http://127.0.0.1/v1/chat/completions\r\n"))
        #expect(exchange.head.lowercased().contains("content-length: 0"))
        #expect(exchange.rawBody.isEmpty)
    }
}
