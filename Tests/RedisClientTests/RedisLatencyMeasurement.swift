import Foundation
import NIOCore
import Testing

@testable import RedisClient

/// Round trips of the receipt store's two commands against a local redis-server. Prints figures, asserts none;
/// runs only with REDIS_BENCH=1 (`REDIS_BENCH=1 swift test --skip-build --filter RedisLatencyMeasurement`).
@Suite("Redis round-trip measurement", .enabled(if: ProcessInfo.processInfo.environment["REDIS_BENCH"] == "1"))
struct RedisLatencyMeasurement {
    static let operations = 2000

    static func report(_ name: String, _ samples: [Duration], total: Duration) {
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            let sample = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
            return String(format: "%.0f µs", Double(sample.components.attoseconds) / 1e12 + Double(sample.components.seconds) * 1e6)
        }
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        print(
            "redis \(name): \(operations) ops, p50 \(percentile(0.5)), p99 \(percentile(0.99)), "
                + String(format: "%.0f ops/s", Double(operations) / seconds))
    }

    @Test("SET NX EX and GET: one at a time, pipelined, concurrent")
    func measure() async throws {
        try await RedisServerProcess.withRedisServer { server in
            var configuration = server.configuration()
            configuration.maxConnections = 4
            let pool = RedisConnectionPool(configuration: configuration, logger: .quiet)
            let value = ByteBuffer(repeating: UInt8(ascii: "r"), count: 600)  // about one signed receipt
            try await pool.ping()
            // Warm up every connection.
            for index in 0..<100 { _ = try await pool.set("warm:\(index)", to: value) }

            let clock = ContinuousClock()
            var samples: [Duration] = []
            var start = clock.now
            for index in 0..<Self.operations {
                let begin = clock.now
                _ = try await pool.set("seq:\(index)", to: value, expireSeconds: 300, onlyIfAbsent: true)
                samples.append(clock.now - begin)
            }
            Self.report("SET NX EX sequential", samples, total: clock.now - start)

            samples = []
            start = clock.now
            for index in 0..<Self.operations {
                let begin = clock.now
                _ = try await pool.get("seq:\(index)")
                samples.append(clock.now - begin)
            }
            Self.report("GET sequential", samples, total: clock.now - start)

            for batch in [10, 100] {
                samples = []
                start = clock.now
                for first in stride(from: 0, to: Self.operations, by: batch) {
                    let commands = (first..<first + batch).map {
                        ["SET", "pipe\(batch):\($0)", "x", "EX", "300", "NX"].map { ByteBuffer(string: $0) }
                    }
                    let begin = clock.now
                    _ = try await pool.pipeline(commands)
                    samples.append(clock.now - begin)
                }
                Self.report("SET NX EX pipelined by \(batch) (latency per batch)", samples, total: clock.now - start)
            }

            for concurrency in [16, 64] {
                start = clock.now
                let durations = try await withThrowingTaskGroup(of: [Duration].self) { group in
                    for worker in 0..<concurrency {
                        group.addTask {
                            var local: [Duration] = []
                            for index in stride(from: worker, to: Self.operations, by: concurrency) {
                                let begin = clock.now
                                _ = try await pool.set("conc\(concurrency):\(index)", to: value, expireSeconds: 300, onlyIfAbsent: true)
                                local.append(clock.now - begin)
                            }
                            return local
                        }
                    }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
                Self.report("SET NX EX from \(concurrency) concurrent tasks", durations, total: clock.now - start)
            }
            await pool.shutdown()
        }
    }
}
