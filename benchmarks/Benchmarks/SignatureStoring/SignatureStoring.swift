import Benchmark
import BenchmarkSubjects
import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// The signature store (`SignatureStore`): insert and lookup, alone and from several threads at once, and
/// the memory a full store at the default capacity holds per entry.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        maxDuration: .seconds(1),
        maxIterations: 2_000
    )

    let signer = ExchangeSigner(keys: .dev(seed: "benchmarks"), format: .plain, modelName: "tiny")
    // A record as eager mode stores it: both hashes and both signatures, as bytes.
    guard let record = try? signer.sign(requestHash: String(repeating: "ab", count: 32), responseHash: String(repeating: "cd", count: 32))
    else { fatalError("signing with development keys failed") }
    // vLLM-shaped ids, made before measuring so that only the store's own work is counted.
    let ids = (0..<100_000).map { ChatID("chatcmpl-\(String($0, radix: 16))bd7f0789f54390b4") }
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

    // Memory: a store at the default capacity filled with 100 000 entries as the proxy makes them (a
    // 29-byte id made per exchange, the record of eager or lazy mode), measured as the heap it holds per
    // entry: glibc's bytes in use (arenas and mmapped blocks, chunk headers included), after minus before.
    // Resident memory would depend on history here: earlier benchmarks leave freed holes the store fills.
    let bytesPerEntry = BenchmarkMetric.custom("heap bytes per entry", polarity: .prefersSmaller, useScalingFactor: false)
    for mode in SigningMode.allCases {
        let stored = mode == .eager ? record : SignatureRecord(requestHash: record.requestHash, responseHash: record.responseHash)
        Benchmark(
            "heap-bytes-per-entry-\(mode.rawValue)-100000",
            configuration: .init(metrics: [bytesPerEntry], maxDuration: .seconds(60), maxIterations: 1)
        ) { benchmark in
            let count = 100_000
            guard let before = heapBytesInUse() else { return }
            let store = SignatureStore<SignatureRecord>(capacity: count, ttl: .seconds(1200))
            for index in 0..<count {
                // 29 bytes, like `chatcmpl-` + 20 hex digits.
                let id = ChatID("chatcmpl-" + hex20(UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
                blackHole(store.insert(stored, for: id))
            }
            guard let after = heapBytesInUse() else { return }
            precondition(store.count == count, "every id is distinct, so every insert is kept")
            benchmark.measurement(bytesPerEntry, (after - before) / count)
            blackHole(store)
        }
    }
}

/// Twenty lowercase hex digits: four zeros, then the 16 of `value`.
private func hex20(_ value: UInt64) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var text = [UInt8](repeating: UInt8(ascii: "0"), count: 20)
    var rest = value
    for position in stride(from: 19, through: 4, by: -1) {
        text[position] = digits[Int(rest & 0xF)]
        rest >>= 4
    }
    return String(decoding: text, as: UTF8.self)
}

/// glibc's heap in use, mmapped blocks included (`mallinfo2().uordblks + hblkhd`); `nil` elsewhere.
///
/// `<malloc.h>` is not part of the Glibc module, and `mallinfo2` returns a struct that Swift cannot
/// declare for a C call, so this reads the same figure from `malloc_stats()`: the "Total (incl. mmap)"
/// block it prints to standard error, captured through a pipe.
private func heapBytesInUse() -> Int? {
    #if canImport(Glibc)
    typealias MallocStats = @convention(c) () -> Void
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_stats") else { return nil }
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { return nil }
    fflush(nil)
    let savedError = dup(2)
    dup2(ends[1], 2)
    unsafeBitCast(symbol, to: MallocStats.self)()
    fflush(nil)
    dup2(savedError, 2)
    close(savedError)
    close(ends[1])
    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = read(ends[0], &chunk, chunk.count)
        if count <= 0 { break }
        output.append(contentsOf: chunk[..<count])
    }
    close(ends[0])
    // "Total (incl. mmap):" then "system bytes = N" and "in use bytes = N".
    let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
    guard let total = lines.firstIndex(where: { $0.hasPrefix("Total (incl. mmap)") }) else { return nil }
    guard let inUse = lines[total...].first(where: { $0.hasPrefix("in use bytes") }),
        let value = inUse.split(separator: "=").last?.split(separator: " ").first
    else { return nil }
    return Int(value)
    #else
    return nil
    #endif
}
