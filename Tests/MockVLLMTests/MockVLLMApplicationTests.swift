import Testing

@testable import MockVLLM

@Suite("Running the mock in-process")
struct MockVLLMApplicationTests {
    @Test("withMockVLLM reports the real port of a port-0 bind and serves on it")
    func portZero() async throws {
        let (port, health) = try await withMockVLLM { port in
            (port, try await TestClient.get(port: port, path: "/health"))
        }
        #expect(port > 0)
        #expect(health.status == 200)
    }

    @Test("a port already in use surfaces the bind error")
    func portInUse() async throws {
        try await withMockVLLM { port in
            await #expect(throws: (any Error).self) {
                _ = try await withMockVLLM(configuration: .init(port: port)) { _ in }
            }
        }
    }

    @Test("the server keeps a connection alive across requests")
    func keepAlive() async throws {
        let stats = MockVLLMStats()
        try await withMockVLLM(stats: stats) { port in
            for _ in 0..<5 {
                _ = try await TestClient.post(port: port, body: #"{"stream":true}"#)
            }
        }
        #expect(stats.snapshot.streamsCompleted == 5)
    }
}
