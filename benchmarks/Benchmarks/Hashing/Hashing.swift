import Benchmark
import BenchmarkSubjects
import Crypto
import NIOCore

/// SHA-256 over ByteBuffers as the proxy hashes them (`StreamDigest`): SSE-chunk-sized buffers and 1 MiB.
///
/// Compare with `openssl speed -evp sha256` on the same machine (the load harness records it).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )

    // A typical vLLM SSE event is 200-300 bytes; 200 B is the small end of that.
    let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 200)
    let large = ByteBuffer(repeating: UInt8(ascii: "b"), count: 1 << 20)

    // The per-chunk cost on the streaming path: one update of a running hash.
    Benchmark("SHA256-update-200B", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var digest = StreamDigest()
        for _ in benchmark.scaledIterations {
            digest.update(chunk)
        }
        blackHole(digest.byteCount)
    }

    // What a non-streamed body costs: hash, finalize, hex.
    Benchmark("SHA256-hex-200B", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(StreamDigest.hex(of: chunk))
        }
    }

    // Bulk rate: 1 MiB per iteration, to set against openssl's 16 KiB block figure.
    Benchmark("SHA256-update-1MiB", configuration: .init(maxIterations: 2_000)) { _ in
        var digest = StreamDigest()
        digest.update(large)
        blackHole(digest.finalizeHex())
    }

    // swift-crypto directly, without the StreamDigest wrapper, for the wrapper's overhead.
    Benchmark("swift-crypto-SHA256-1MiB", configuration: .init(maxIterations: 2_000)) { _ in
        large.withUnsafeReadableBytes { blackHole(SHA256.hash(data: $0)) }
    }
}
