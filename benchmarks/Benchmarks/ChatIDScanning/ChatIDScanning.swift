import Benchmark
import BenchmarkSubjects
import NIOCore

/// The SSE chat-id scanner (`ChatIDScanner`) over the recorded vLLM stream.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )

    let stream = RecordedStream.load()
    let firstEvent = stream.events[0]
    let long = stream.lengthened(to: 1_000)
    // The same bytes in 7-byte pieces: every event split many times, lines across chunk boundaries.
    let whole = ByteBuffer(bytes: stream.bytes)
    let pieces = stride(from: 0, to: whole.readableBytes, by: 7).map {
        whole.getSlice(at: $0, length: min(7, whole.readableBytes - $0))!
    }

    // Finding the id: buffering the first data line and extracting `id` from its JSON.
    Benchmark("first-event-finds-id", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            var scanner = ChatIDScanner()
            blackHole(scanner.feed(firstEvent))
            blackHole(scanner.chatID)
        }
    }

    // One whole recorded stream, one event per chunk as vLLM writes it.
    Benchmark("recorded-stream", configuration: .init(scalingFactor: .kilo)) {
        benchmark in
        for _ in benchmark.scaledIterations {
            var scanner = ChatIDScanner()
            for event in stream.events { blackHole(scanner.feed(event)) }
            blackHole(scanner.sawDone)
        }
    }

    // The per-chunk cost once the id is known: looking for `[DONE]` only.
    Benchmark("1000-event-stream", configuration: .init(maxIterations: 5_000)) { _ in
        var scanner = ChatIDScanner()
        for event in long { blackHole(scanner.feed(event)) }
        blackHole(scanner.sawDone)
    }

    Benchmark("recorded-stream-7-byte-pieces", configuration: .init(maxIterations: 5_000)) { _ in
        var scanner = ChatIDScanner()
        for piece in pieces { blackHole(scanner.feed(piece)) }
        blackHole(scanner.sawDone)
    }
}
