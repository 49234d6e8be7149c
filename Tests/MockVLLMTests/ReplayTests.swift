import Crypto
import Testing

@testable import MockVLLM

@Suite("Replay sends recorded vLLM bodies byte for byte")
struct ReplayTests {
    /// Boundaries inside `data: `, just after the first byte of the first U+FFFD, after the first event,
    /// and before the very last newline.
    static func awkwardBoundaries(in body: [UInt8]) -> [Int] {
        var boundaries = [3, body.count - 1]
        if let replacement = body.firstRange(of: [0xEF, 0xBF, 0xBD]) { boundaries.append(replacement.lowerBound + 1) }
        if let firstEventEnd = body.firstRange(of: Array("\n\n".utf8)) { boundaries.append(firstEventEnd.upperBound) }
        return boundaries
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    @Test("streams replay exactly, one HTTP chunk per piece", arguments: ["chat-stream", "chat-stream-n2", "completion-stream"])
    func streamReplay(_ name: String) async throws {
        let fixture = try Fixtures.body(name)
        let replay = MockVLLMReplay(body: fixture, chunkBoundaries: Self.awkwardBoundaries(in: fixture))
        let stats = MockVLLMStats()
        let exchange = try await withMockVLLM(configuration: .init(replay: replay), stats: stats) { port in
            try await RawHTTPExchange.post(port: port, body: #"{"anything":"goes"}"#)
        }
        #expect(exchange.head.hasPrefix("HTTP/1.1 200 OK"))
        #expect(exchange.head.lowercased().contains("content-type: text/event-stream; charset=utf-8"))
        let body = ChunkedBody(decoding: exchange.rawBody)
        #expect(body.isComplete)
        #expect(body.payload == fixture)
        #expect(Self.sha256Hex(body.payload) == Fixtures.sha256[name])
        #expect(body.chunkSizes == replay.pieces.map(\.readableBytes))
        #expect(body.chunkSizes.count == 5)
        #expect(stats.snapshot.streamsCompleted == 1)
    }

    @Test("JSON bodies replay exactly with content-length", arguments: ["chat", "completion", "models"])
    func jsonReplay(_ name: String) async throws {
        let fixture = try Fixtures.body(name)
        let replay = MockVLLMReplay(body: fixture, contentType: "application/json", chunkBoundaries: [100, 101, 350])
        let response = try await withMockVLLM(configuration: .init(replay: replay)) { port in
            try await TestClient.post(port: port, body: "{}")
        }
        #expect(response.status == 200)
        #expect(response.header("content-length") == ["\(fixture.count)"])
        #expect(response.body == fixture)
        #expect(Self.sha256Hex(response.body) == Fixtures.sha256[name])
    }

    @Test("error bodies replay with their status")
    func errorReplay() async throws {
        let fixture = try Fixtures.body("error-unknown-model")
        let replay = MockVLLMReplay(body: fixture, contentType: "application/json", status: 404)
        let response = try await withMockVLLM(configuration: .init(replay: replay)) { port in
            try await TestClient.post(port: port, path: "/v1/completions", body: "{}")
        }
        #expect(response.status == 404)
        #expect(Self.sha256Hex(response.body) == Fixtures.sha256["error-unknown-model"])
    }

    @Test("replay with fail-after stops before [DONE]")
    func truncatedReplay() async throws {
        let fixture = try Fixtures.body("chat-stream")
        let eventStarts = fixture.indices.filter { $0 > 0 && fixture[$0 - 1] == 0x0A && fixture[$0...].starts(with: Array("data: ".utf8)) }
        let replay = MockVLLMReplay(body: fixture, chunkBoundaries: eventStarts)
        let stats = MockVLLMStats()
        let exchange = try await withMockVLLM(configuration: .init(failAfter: 4, replay: replay), stats: stats) { port in
            try await RawHTTPExchange.post(port: port, body: "{}")
        }
        let body = ChunkedBody(decoding: exchange.rawBody)
        #expect(!body.isComplete)
        #expect(exchange.serverClosed)
        #expect(body.payload == Array(fixture[..<eventStarts[3]]))
        #expect(stats.snapshot.streamsCut == 1)
    }

    @Test("pieces ignore out-of-range and repeated boundaries and always rebuild the body")
    func pieces() {
        let replay = MockVLLMReplay(body: Array("abcdef".utf8), chunkBoundaries: [4, 0, -3, 2, 4, 6, 99])
        #expect(replay.pieces.map { String(buffer: $0) } == ["ab", "cd", "ef"])
        #expect(MockVLLMReplay(body: [UInt8]()).pieces.isEmpty)
        #expect(MockVLLMReplay(body: Array("x".utf8)).pieces.map { String(buffer: $0) } == ["x"])
    }
}
