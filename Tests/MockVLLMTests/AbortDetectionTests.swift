import Testing

@testable import MockVLLM

@Suite("The server notices clients that leave mid-stream")
struct AbortDetectionTests {
    @Test("a paced stream registers the abort while it waits between events")
    func pacedAbort() async throws {
        let stats = MockVLLMStats()
        let configuration = MockVLLMConfiguration(tokens: 1000, delay: .milliseconds(50))
        let noticed = try await withMockVLLM(configuration: configuration, stats: stats) { port in
            let exchange = try await RawHTTPExchange.post(port: port, body: #"{"stream":true}"#) { exchange in
                ChunkedBody(decoding: exchange.rawBody).payload.count(of: Array("data: ".utf8)) >= 3
            }
            #expect(!exchange.serverClosed)
            // The exchange closed the socket on return; the stream has ~50 s left to run.
            return await stats.waitUntil(timeout: .seconds(5)) { $0.streamsAborted == 1 }
        }
        #expect(noticed)
        let snapshot = stats.snapshot
        #expect(snapshot.streamsStarted == 1)
        #expect(snapshot.streamsCompleted == 0)
        #expect(snapshot.streamsCut == 0)
        #expect(snapshot.activeStreams == 0)
    }

    @Test("the abort registers during a long pause, long before the next write could fail")
    func abortDuringLongPause() async throws {
        let stats = MockVLLMStats()
        // The next event is 60 s away: only the connection watch can notice the departure within the bound.
        let configuration = MockVLLMConfiguration(tokens: 10, delay: .seconds(60))
        let noticed = try await withMockVLLM(configuration: configuration, stats: stats) { port in
            _ = try await RawHTTPExchange.post(port: port, body: #"{"stream":true}"#) { exchange in
                ChunkedBody(decoding: exchange.rawBody).payload.count(of: Array("data: ".utf8)) >= 1
            }
            return await stats.waitUntil(timeout: .seconds(15)) { $0.streamsAborted == 1 }
        }
        #expect(noticed)
    }

    @Test("an unpaced long stream registers the abort when its writes fail")
    func unpacedAbort() async throws {
        let stats = MockVLLMStats()
        let noticed = try await withMockVLLM(configuration: .init(tokens: 2_000_000), stats: stats) { port in
            _ = try await RawHTTPExchange.post(port: port, body: #"{"stream":true}"#) { $0.received.count >= 64 << 10 }
            return await stats.waitUntil(timeout: .seconds(20)) { $0.streamsAborted == 1 }
        }
        #expect(noticed)
        #expect(stats.snapshot.streamsCompleted == 0)
    }

    @Test("a stream read to the end counts as completed")
    func completedStream() async throws {
        let stats = MockVLLMStats()
        _ = try await withMockVLLM(configuration: .init(delay: .milliseconds(1)), stats: stats) { port in
            try await TestClient.post(port: port, body: #"{"stream":true}"#)
        }
        #expect(await stats.waitUntil(timeout: .seconds(5)) { $0.streamsCompleted == 1 })
        #expect(stats.snapshot.streamsAborted == 0)
    }
}

extension Array where Element == UInt8 {
    /// How many times `pattern` occurs, without overlaps.
    func count(of pattern: [UInt8]) -> Int {
        var count = 0
        var index = 0
        while index + pattern.count <= self.count {
            if self[index..<(index + pattern.count)].elementsEqual(pattern) {
                count += 1
                index += pattern.count
            } else {
                index += 1
            }
        }
        return count
    }
}
