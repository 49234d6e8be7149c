import Benchmark
import BenchmarkSubjects
import Dispatch

/// The signature store (`SignatureStore`): insert and lookup, alone and from several threads at once.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        maxDuration: .seconds(1),
        maxIterations: 2_000
    )

    let record = SignatureRecord(
        text: String(repeating: "ab", count: 32) + ":" + String(repeating: "cd", count: 32),
        ecdsaSignature: "0x" + String(repeating: "12", count: 65),
        ed25519Signature: String(repeating: "34", count: 64)
    )
    // vLLM-shaped ids, made before measuring so that only the store's own work is counted.
    let ids = (0..<100_000).map { "chatcmpl-\(String($0, radix: 16))bd7f0789f54390b4" }
    let batch = 1_000
    let threads = 4

    // Each iteration inserts a fresh batch of 1 000 ids into a store at the default capacity (100 000),
    // so evictions happen once it is full, as in a long-running proxy.
    Benchmark("insert-1-thread", configuration: .init(scalingFactor: .kilo)) { benchmark in
        let store = SignatureStore<SignatureRecord>(capacity: 100_000, ttl: .seconds(1200))
        benchmark.startMeasurement()
        for index in benchmark.scaledIterations {
            blackHole(store.insert(record, for: ids[index]))
        }
        benchmark.stopMeasurement()
    }

    let filled = SignatureStore<SignatureRecord>(capacity: 100_000, ttl: .seconds(1200))
    for id in ids { _ = filled.insert(record, for: id) }

    Benchmark("lookup-hit-1-thread", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations {
            blackHole(filled.lookup(ids[(index &* 97) % ids.count]))
        }
    }

    // Contention: 4 threads on one store, each doing 1 000 operations (3 lookups : 1 insert),
    // as signature requests and finishing streams meet on the proxy's event loops.
    // Dispatch may or may not start a worker thread inside the measurement: ±2 mallocs of 8 000 is that, not the store.
    Benchmark(
        "insert-and-lookup-\(threads)-threads-x1000",
        configuration: .init(scalingFactor: .one, thresholds: [.mallocCountTotal: .init(absolute: [.p90: 2])])
    ) { benchmark in
        let store = SignatureStore<SignatureRecord>(capacity: 100_000, ttl: .seconds(1200))
        for id in ids.prefix(10_000) { _ = store.insert(record, for: id) }
        benchmark.startMeasurement()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for operation in 0..<batch {
                let index = thread * batch + operation
                if operation % 4 == 0 {
                    blackHole(store.insert(record, for: ids[10_000 + index]))
                } else {
                    blackHole(store.lookup(ids[(index &* 31) % 10_000]))
                }
            }
        }
        benchmark.stopMeasurement()
    }
}
