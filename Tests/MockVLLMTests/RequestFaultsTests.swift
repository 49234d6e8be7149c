import Foundation
import Testing

@testable import MockVLLM

@Suite("Per-request faults and the request log")
struct RequestFaultsTests {
    @Test("with request faults on, mock_fail_after cuts this stream only; the next one completes")
    func perRequestCut() async throws {
        let stats = MockVLLMStats()
        let configuration = MockVLLMConfiguration(tokens: 6, requestFaults: true)
        let (cut, clean) = try await withMockVLLM(configuration: configuration, stats: stats) { port in
            (
                try await RawHTTPExchange.post(port: port, body: #"{"stream":true,"mock_fail_after":2}"#),
                try await RawHTTPExchange.post(port: port, body: #"{"stream":true}"#)
            )
        }
        let cutBody = ChunkedBody(decoding: cut.rawBody)
        #expect(!cutBody.isComplete)
        #expect(cut.serverClosed)
        #expect(BodyText.events(cutBody.payload)?.count == 2)
        let cleanBody = ChunkedBody(decoding: clean.rawBody)
        #expect(cleanBody.isComplete)
        #expect(BodyText.events(cleanBody.payload)?.last == "[DONE]")
        #expect(stats.snapshot.streamsCut == 1)
        #expect(stats.snapshot.streamsCompleted == 1)
    }

    @Test("a JSON answer is cut by mock_fail_after 0: content-length announced, no body")
    func perRequestJSONCut() async throws {
        let configuration = MockVLLMConfiguration(requestFaults: true)
        let exchange = try await withMockVLLM(configuration: configuration) { port in
            try await RawHTTPExchange.post(port: port, body: #"{"mock_fail_after":0}"#)
        }
        #expect(exchange.head.hasPrefix("HTTP/1.1 200 OK"))
        #expect(exchange.head.lowercased().contains("content-length: "))
        #expect(exchange.rawBody.isEmpty)
        #expect(exchange.serverClosed)
    }

    @Test("without request faults the fields are ignored, as vLLM ignores unknown fields")
    func ignoredByDefault() async throws {
        let exchange = try await withMockVLLM(configuration: .init(tokens: 4)) { port in
            try await RawHTTPExchange.post(port: port, body: #"{"stream":true,"mock_fail_after":1,"mock_delay_ms":"x"}"#)
        }
        let body = ChunkedBody(decoding: exchange.rawBody)
        #expect(body.isComplete)
        #expect(BodyText.events(body.payload)?.count == 6)  // role, 4 tokens, [DONE]
    }

    @Test("mock_delay_ms paces this stream; a bad value is vLLM's 400 for the field")
    func perRequestDelayAndBadValue() async throws {
        let configuration = MockVLLMConfiguration(tokens: 5, requestFaults: true)
        let (paced, elapsed, bad) = try await withMockVLLM(configuration: configuration) { port in
            let start = ContinuousClock.now
            let paced = try await TestClient.post(port: port, body: #"{"stream":true,"mock_delay_ms":20}"#)
            let elapsed = ContinuousClock.now - start
            let bad = try await TestClient.post(port: port, body: #"{"stream":true,"mock_delay_ms":-1}"#)
            return (paced, elapsed, bad)
        }
        #expect(BodyText.events(paced.body)?.last == "[DONE]")
        #expect(elapsed >= .milliseconds(5 * 20))  // six gaps between seven events, at least five counted
        #expect(bad.status == 400)
        #expect(bad.bodyText.contains("body.mock_delay_ms"))
    }

    @Test("mock_header_delay_ms holds the answer's head back")
    func perRequestHeaderDelay() async throws {
        let configuration = MockVLLMConfiguration(requestFaults: true)
        let (delayed, elapsed) = try await withMockVLLM(configuration: configuration) { port in
            let start = ContinuousClock.now
            let response = try await TestClient.post(port: port, body: #"{"mock_header_delay_ms":150}"#)
            return (response, ContinuousClock.now - start)
        }
        #expect(delayed.status == 200)
        #expect(elapsed >= .milliseconds(150))
    }

    @Test("the request log has one line per request, with the framing headers, body hash and answer id")
    func requestLog() async throws {
        let path = NSTemporaryDirectory() + "mock-vllm-request-log-\(UInt64.random(in: 0...UInt64.max)).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let body = #"{"messages":[{"role":"user","content":"hello"}]}"#
        let answer = try await withMockVLLM(configuration: .init(requestLogPath: path)) { port in
            _ = try await TestClient.get(port: port, path: "/health")
            _ = try await TestClient.get(port: port, path: "/v1/models")
            return try await TestClient.post(port: port, body: body)
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
        #expect(lines.count == 3)
        #expect(lines.map { $0["path"] as? String } == ["/health", "/v1/models", "/v1/chat/completions"])
        #expect(lines.map { $0["method"] as? String } == ["GET", "GET", "POST"])
        let completion = try #require(lines.last)
        #expect(completion["body_bytes"] as? Int == body.utf8.count)
        #expect(completion["body_fnv1a64"] as? String == MockVLLMRequestLog.fnv1a64Hex(Array(body.utf8)))
        let answered = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        #expect(completion["id"] as? String == answered?["id"] as? String)
        #expect(lines[0]["id"] is NSNull)
    }

    @Test("FNV-1a 64 matches its published test vectors")
    func fnvVectors() {
        #expect(MockVLLMRequestLog.fnv1a64Hex([]) == "cbf29ce484222325")
        #expect(MockVLLMRequestLog.fnv1a64Hex(Array("a".utf8)) == "af63dc4c8601ec8c")
        #expect(MockVLLMRequestLog.fnv1a64Hex(Array("foobar".utf8)) == "85944171f73967e8")
    }
}
