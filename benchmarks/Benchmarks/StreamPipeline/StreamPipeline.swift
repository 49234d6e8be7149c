import Benchmark
import BenchmarkSubjects
import Foundation
import NIOCore

/// The recorded vLLM stream pushed through the proxy's per-response path (`StreamingExchange`: hash
/// every byte, scan for the id and `[DONE]`, hold the last chunk), then the response hash, and then the
/// whole exchange with its signatures.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )

    let stream = RecordedStream.load()
    let long = stream.lengthened(to: 1_000)
    let signer = ExchangeSigner(keys: SigningKeys.dev(seed: "benchmarks"), format: .plain, modelName: "tiny")
    let requestHash = String(repeating: "ab", count: 32)

    /// Consumes `events` the way `StreamForwarder` does; returns the response hash.
    func forward(_ events: [ByteBuffer]) -> String {
        var exchange = StreamingExchange()
        for event in events {
            if case .forward(let buffer) = exchange.consume(event) { blackHole(buffer) }
        }
        blackHole(exchange.takeHeld())
        return exchange.responseHash
    }

    Benchmark("recorded-stream-StreamingExchange") { _ in
        blackHole(forward(stream.events))
    }

    // Per-chunk cost: divide by 1 000.
    Benchmark("1000-event-stream-StreamingExchange") { _ in
        blackHole(forward(long))
    }

    // The non-streamed path's checks: `CompletionProxy.isJSONObject` parses request and response with
    // Foundation's JSONSerialization (the same call, measured here on the recorded bodies), then the
    // response is hashed and its id extracted.
    let chatRequest = Data(#"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"stream":false}"#.utf8)
    let chatResponse = ByteBuffer(bytes: RecordedStream.fixture("chat.body"))
    Benchmark("JSON-checks-request-and-707B-response") { _ in
        blackHole(try? JSONSerialization.jsonObject(with: chatRequest))
        blackHole(try? JSONSerialization.jsonObject(with: Data(chatResponse.readableBytesView)))
    }

    // The same two checks as `JSONCheck` makes them now: `JSONValidator` over the buffers in place (no
    // copy, no document); the benchmark above stays as the figure to compare with.
    let chatRequestBuffer = ByteBuffer(bytes: chatRequest)
    Benchmark("JSONValidator-request-and-707B-response") { _ in
        blackHole(JSONValidator.validate(chatRequestBuffer))
        blackHole(JSONValidator.validate(chatResponse))
    }

    Benchmark("707B-JSON-response-hash-and-id") { _ in
        blackHole(StreamDigest.hex(of: chatResponse))
        blackHole(TopLevelIDExtractor.stringID(in: chatResponse))
    }

    // The recorded exchange end to end as the proxy does it after a clean end: hash, scan, sign both.
    Benchmark("recorded-stream-and-ExchangeSigner") { _ in
        let responseHash = forward(stream.events)
        blackHole(try? signer.sign(requestHash: requestHash, responseHash: responseHash))
    }
}
