import BenchmarkSubjects
import Foundation
import HarnessSupport
import NIOCore

/// Single-core rates of the primitives the proxy spends its CPU on, measured in the same run as the
/// load, plus OpenSSL's SHA-256 for comparison.
struct CryptoBaseline: Codable, Sendable {
    /// MB/s (10^6 bytes) of `StreamDigest` updates over 200-byte ByteBuffers.
    var sha256MBps200B: Double
    /// MB/s of `StreamDigest` over one 1 MiB ByteBuffer.
    var sha256MBps1MiB: Double
    /// libsecp256k1 recoverable signatures per second (one core), through SigningCrypto's thin wrapper.
    var secp256k1SignaturesPerSecond: Double
    /// `ExchangeSigner.sign` per second (one core): text, EIP-191 and ed25519, hex.
    var exchangeSignaturesPerSecond: Double
    /// `openssl speed -evp sha256` table, verbatim.
    var opensslSpeed: String

    static func measure(seconds: Double) -> CryptoBaseline {
        let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 200)
        let large = ByteBuffer(repeating: UInt8(ascii: "b"), count: 1 << 20)
        let small = rate(seconds: seconds) {
            var digest = StreamDigest()
            for _ in 0..<1_000 { digest.update(chunk) }
            return digest.byteCount
        }
        let bulk = rate(seconds: seconds) {
            var digest = StreamDigest()
            digest.update(large)
            return digest.finalizeHex().utf8.count > 0 ? large.readableBytes : 0
        }
        let keys = SigningKeys.dev(seed: "load-harness")
        let digest = PersonalSign.digest(message: Array(String(repeating: "ab", count: 64).utf8))
        let secp = rate(seconds: seconds) {
            (try? keys.ecdsa.signRecoverable(digest: digest)) == nil ? 0 : 1
        }
        let signer = ExchangeSigner(keys: keys, format: .plain, modelName: "tiny")
        let hash = String(repeating: "cd", count: 32)
        let exchange = rate(seconds: seconds) {
            (try? signer.sign(requestHash: hash, responseHash: hash)) == nil ? 0 : 1
        }
        let openssl = Spawner.output(
            "/usr/bin/env", ["openssl", "speed", "-evp", "sha256", "-seconds", String(max(1, Int(seconds)))])
        let table = openssl.split(separator: "\n").drop { !$0.hasPrefix("type") && !$0.hasPrefix("version") }
        return CryptoBaseline(
            sha256MBps200B: small / 1e6,
            sha256MBps1MiB: bulk / 1e6,
            secp256k1SignaturesPerSecond: secp,
            exchangeSignaturesPerSecond: exchange,
            opensslSpeed: table.isEmpty ? openssl : table.joined(separator: "\n")
        )
    }

    /// Units of `work` per second: runs it repeatedly for about `seconds`.
    private static func rate(seconds: Double, _ work: () -> Int) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        var units = 0
        var elapsed = 0.0
        repeat {
            units += work()
            let duration = clock.now - start
            elapsed = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        } while elapsed < seconds
        return Double(units) / elapsed
    }
}
