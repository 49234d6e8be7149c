import AsyncHTTPClient
import NIOCore
import Testing

@testable import MockVLLM

@Suite("Injected faults: split writes, fail-after, pacing, header delay")
struct FaultInjectionTests {
    @Test("split writes send the same bytes, each event in several chunks with awkward cuts")
    func splitWrites() async throws {
        let request = #"{"messages":[{"role":"user","content":"hello"}],"stream":true,"stream_options":{"include_usage":true}}"#
        let plain = try await withMockVLLM(configuration: .init(tokens: 12)) { port in
            try await RawHTTPExchange.post(port: port, body: request)
        }
        let split = try await withMockVLLM(configuration: .init(tokens: 12, splitWrites: true)) { port in
            try await RawHTTPExchange.post(port: port, body: request)
        }
        let plainBody = ChunkedBody(decoding: plain.rawBody)
        let splitBody = ChunkedBody(decoding: split.rawBody)
        #expect(plainBody.isComplete && splitBody.isComplete)
        #expect(BodyText.normalized(splitBody.payload) == BodyText.normalized(plainBody.payload))

        let events = try #require(BodyText.events(splitBody.payload))
        #expect(events.count == 15)  // role, 12 tokens, usage, [DONE]
        #expect(plainBody.chunkSizes.count == events.count)
        #expect(splitBody.chunkSizes.count >= 4 * events.count)
        // Some chunk starts inside "data: ", some ends just after a UTF-8 lead byte, the last two are the newlines.
        var offset = 0
        var endsAfterLeadByte = false
        var startsInsidePrefix = false
        for size in splitBody.chunkSizes {
            let chunk = splitBody.payload[offset..<(offset + size)]
            endsAfterLeadByte = endsAfterLeadByte || (chunk.last.map { $0 >= 0xC0 } ?? false)
            startsInsidePrefix = startsInsidePrefix || chunk.starts(with: Array("a: ".utf8))
            offset += size
        }
        #expect(endsAfterLeadByte)
        #expect(startsInsidePrefix)
        #expect(splitBody.chunkSizes.suffix(2) == [1, 1])
    }

    @Test("fail-after cuts a stream after N events: no terminating chunk, connection closed")
    func failAfterCutsStream() async throws {
        let stats = MockVLLMStats()
        let exchange = try await withMockVLLM(configuration: .init(failAfter: 3), stats: stats) { port in
            try await RawHTTPExchange.post(port: port, body: Fixtures.chatStreamRequest)
        }
        #expect(exchange.head.hasPrefix("HTTP/1.1 200 OK"))
        #expect(exchange.head.lowercased().contains("transfer-encoding: chunked"))
        #expect(exchange.serverClosed)
        let body = ChunkedBody(decoding: exchange.rawBody)
        #expect(!body.isComplete)
        #expect(!exchange.rawBody.suffix(5).elementsEqual(Array("0\r\n\r\n".utf8)))
        let events = try #require(BodyText.events(body.payload))
        #expect(events.count == 3)
        #expect(!events.contains("[DONE]"))
        let snapshot = stats.snapshot
        #expect(snapshot.streamsStarted == 1)
        #expect(snapshot.streamsCut == 1)
        #expect(snapshot.streamsCompleted == 0)
        #expect(snapshot.streamsAborted == 0)
    }

    @Test("an HTTP client sees the cut stream as an error, not a clean end")
    func failAfterIsAnErrorForClients() async throws {
        await #expect(throws: (any Error).self) {
            try await withMockVLLM(configuration: .init(failAfter: 2)) { port in
                _ = try await TestClient.post(port: port, body: #"{"stream":true}"#)
            }
        }
    }

    @Test("fail-after 0 sends only the head; a JSON body is cut too (content-length announced, no bytes)")
    func failAfterZero() async throws {
        let (stream, json) = try await withMockVLLM(configuration: .init(failAfter: 0)) { port in
            (
                try await RawHTTPExchange.post(port: port, body: #"{"stream":true}"#),
                try await RawHTTPExchange.post(port: port, body: #"{}"#)
            )
        }
        #expect(stream.head.hasPrefix("HTTP/1.1 200 OK"))
        #expect(stream.rawBody.isEmpty)
        #expect(stream.serverClosed)
        #expect(json.head.lowercased().contains("content-length: 7"))
        #expect(json.rawBody.isEmpty)
        #expect(json.serverClosed)
    }

    @Test("paced streams carry the same events")
    func pacedStream() async throws {
        let response = try await withMockVLLM(configuration: .init(tokens: 6, delay: .milliseconds(5))) { port in
            try await TestClient.post(port: port, body: #"{"stream":true}"#)
        }
        let events = try #require(BodyText.events(response.body))
        #expect(events.count == 8)  // role, 6 tokens, [DONE]
        #expect(events.last == "[DONE]")
    }

    @Test("paced and split together: still identical bytes")
    func pacedAndSplit() async throws {
        let configuration = MockVLLMConfiguration(tokens: 5, delay: .milliseconds(2), splitWrites: true)
        let split = try await withMockVLLM(configuration: configuration) { port in
            try await TestClient.post(port: port, path: "/v1/completions", body: #"{"stream":true}"#)
        }
        let plain = try await withMockVLLM(configuration: .init(tokens: 5)) { port in
            try await TestClient.post(port: port, path: "/v1/completions", body: #"{"stream":true}"#)
        }
        #expect(BodyText.events(split.body)?.count == 5 + 1)
        #expect(BodyText.normalized(split.body) == BodyText.normalized(plain.body))
    }

    @Test("a header delay longer than the client's deadline makes the client time out")
    func headerDelay() async throws {
        await #expect(throws: (any Error).self) {
            try await withMockVLLM(configuration: .init(headerDelay: .seconds(10))) { port in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                request.method = .POST
                request.body = .bytes(ByteBuffer(string: "{}"))
                _ = try await TestClient.execute(request, timeout: .milliseconds(300))
            }
        }
    }
}
