import Benchmark
import BenchmarkSubjects
import Crypto

/// The signing path of one exchange: Keccak-256, EIP-191 (secp256k1, recoverable), ed25519, and both
/// together as `ExchangeSigner` does them for every stored completion.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        maxDuration: .seconds(1),
        maxIterations: 10_000
    )

    let keys = SigningKeys.dev(seed: "benchmarks")
    let signer = ExchangeSigner(keys: keys, format: .plain, modelName: "tiny")
    let requestHash = String(repeating: "ab", count: 32)
    let responseHash = String(repeating: "cd", count: 32)
    // The signed text of the default format: 129 ASCII bytes.
    let text = Array("\(requestHash):\(responseHash)".utf8)
    let digest = PersonalSign.digest(message: text)

    Benchmark("Keccak256-129B", configuration: .init(timeUnits: .nanoseconds, scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Keccak256.hash(text))
        }
    }

    // libsecp256k1 as the proxy calls it, without the EIP-191 framing and hex: the raw signing rate.
    Benchmark("secp256k1-sign-recoverable") { _ in
        blackHole(try? keys.ecdsa.signRecoverable(digest: digest))
    }

    Benchmark("EIP191-personal-sign-129B") { _ in
        blackHole(try? PersonalSign.sign(message: text, with: keys.ecdsa))
    }

    Benchmark("ed25519-sign-129B") { _ in
        blackHole(try? keys.ed25519.signature(for: text))
    }

    // What every stored completion costs today: text, both signatures, hex.
    Benchmark("ExchangeSigner-both-signatures") { _ in
        blackHole(try? signer.sign(requestHash: requestHash, responseHash: responseHash))
    }
}
