import Foundation
import Logging
import NIOCore
import NIOPosix
import SigningCore
import SigningProxyServer
import Testing

/// What the shared store's write adds to a completion, one request at a time on loopback: the same completions
/// through a proxy without the store and one with it (redis-server on loopback, default 50 ms write wait). Prints
/// figures, asserts none; runs only with REDIS_BENCH=1
/// (`REDIS_BENCH=1 swift test --skip-build --filter SharedStoreLatencyMeasurement`).
@Suite("Shared store latency measurement", .serialized, .enabled(if: ProcessInfo.processInfo.environment["REDIS_BENCH"] == "1"))
struct SharedStoreLatencyMeasurement {
    static let requests = Int(ProcessInfo.processInfo.environment["REDIS_BENCH_REQUESTS"] ?? "") ?? 1000

    static func microseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
    }

    static func percentiles(_ samples: [Duration]) -> (p50: Double, p99: Double) {
        let sorted = samples.sorted()
        return (microseconds(sorted[sorted.count / 2]), microseconds(sorted[min(sorted.count - 1, sorted.count * 99 / 100)]))
    }

    static func measure(_ harness: ProxyHarness, streamed: Bool) async throws -> [Duration] {
        let body = streamed ? SharedReceiptStoreTests.streamRequest : SharedReceiptStoreTests.jsonRequest
        for _ in 0..<50 { _ = try await harness.send(.POST, "/v1/chat/completions", body: body) }
        let clock = ContinuousClock()
        var samples: [Duration] = []
        samples.reserveCapacity(requests)
        for _ in 0..<requests {
            let start = clock.now
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: body)
            samples.append(clock.now - start)
            #expect(answer.status == 200)
        }
        return samples
    }

    @Test("the write alone: SET NX EX from an event loop until the answer may go, one at a time")
    func measureWrite() async throws {
        try await RedisServerProcess.withRedisServer { server in
            let signer = ExchangeSigner(keys: .dev(seed: "bench"), format: .plain, modelName: "tiny")
            let store = SharedReceiptStore(
                settings: SharedReceiptStoreTests.settings(port: server.port, write: .milliseconds(50)), ttl: .seconds(60),
                signer: signer, metrics: ProxyMetrics(), logger: Logger(label: "bench"))
            let notary = ExchangeNotary(
                signer: signer, store: SignatureStore(capacity: 100_000, ttl: .seconds(60)), metrics: ProxyMetrics(), mode: .eager,
                shared: store)
            let loop = MultiThreadedEventLoopGroup.singleton.any()
            let hash = String(repeating: "cd", count: 32)
            var samples: [Duration] = []
            for index in 0..<(Self.requests + 100) {
                let prepared = try #require(
                    notary.prepare(chatID: "bench-\(index)", requestHash: hash, responseHash: hash, logger: Logger(label: "bench")))
                let clock = ContinuousClock()
                let start = clock.now
                try await loop.flatSubmit {
                    let (settle, released) = notary.release(prepared, on: loop, logger: Logger(label: "bench"))
                    return released!.assumeIsolated().map { settle(true) }.nonisolated()
                }.get()
                if index >= 100 { samples.append(clock.now - start) }
            }
            let (p50, p99) = Self.percentiles(samples)
            print(String(format: "shared store write until release: %d writes, p50 %.0f µs p99 %.0f µs", samples.count, p50, p99))
            await store.shutdown()
        }
    }

    @Test("completion latency with and without the Redis write, c=1")
    func measureAddedLatency() async throws {
        try await RedisServerProcess.withRedisServer { server in
            let settings = SharedReceiptStoreTests.settings(port: server.port, write: .milliseconds(50))
            try await ProxyHarness.run { off in
                try await ProxyHarness.run(configure: { $0.sharedStore = settings }) { on in
                    for streamed in [false, true] {
                        // Interleaved halves, so drift on a shared machine touches both sides alike.
                        var without: [Duration] = []
                        var with: [Duration] = []
                        for _ in 0..<2 {
                            without += try await Self.measure(off, streamed: streamed)
                            with += try await Self.measure(on, streamed: streamed)
                        }
                        let (offP50, offP99) = Self.percentiles(without)
                        let (onP50, onP99) = Self.percentiles(with)
                        let metrics = on.proxy.metrics
                        print(
                            String(
                                format: "shared store %@: %d completions each, without p50 %.0f µs p99 %.0f µs; with p50 %.0f µs p99 %.0f µs; added p50 %.0f µs p99 %.0f µs (writes %d, timeouts %d, errors %d, skipped %d)",
                                streamed ? "streamed" : "non-streamed", without.count, offP50, offP99, onP50, onP99, onP50 - offP50,
                                onP99 - offP99, metrics.value(.sharedStoreWrites), metrics.value(.sharedStoreWriteTimeouts),
                                metrics.value(.sharedStoreWriteErrors), metrics.value(.sharedStoreWritesSkipped)))
                    }
                }
            }
        }
    }
}
