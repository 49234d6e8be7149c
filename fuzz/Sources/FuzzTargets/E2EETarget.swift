import E2EE
import Foundation
import SigningCore
import SigningCrypto

/// `e2ee`: the E2EE body layer (`E2EEExchange`: request opening, answer sealing, the stream sealer) on
/// bodies and streams an attacker or a broken upstream could send, under valid headers of each dialect.
///
/// Input: byte 0 picks the dialect and endpoint, byte 1 the mode and a split point; the rest is the body.
/// Checks, beyond not crashing:
/// - Opening a valid JSON object either refuses it with an `E2EEError` or yields a valid JSON object (what vLLM
///   gets). (The exchange validates a request before opening it, and an answer after sealing it.)
/// - Sealing a valid JSON object either refuses it or yields a valid JSON object with the same top-level id.
/// - The stream sealer gives the same verdict, the same number of lines and the same non-`data:` lines
///   whether the stream arrives whole or split where the input chooses (sealed fields differ between runs:
///   each seal draws a fresh nonce or ephemeral key).
enum E2EETarget {
    static let target = FuzzTarget(
        name: "e2ee",
        summary: "E2EE request opening and answer sealing (whole and streamed) under each dialect's headers"
    ) { run($0) }

    static let keys = SigningKeys.dev(seed: "fuzz-e2ee")
    /// Made per input rather than once: a key held in a static is reported by LeakSanitizer at exit (swift-crypto's
    /// X25519 key keeps its bytes where the leak checker does not look), and per input the check also shows that
    /// no key material leaks per request.
    static func server() -> E2EEServerKeys {
        try! E2EEServerKeys(ecdsa: keys.ecdsa, ed25519Seed: Array(keys.ed25519.rawRepresentation))
    }
    static let client = try! Secp256k1PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32))

    /// The dialects' headers, each with a valid client key (ACI's keyset is empty here, so ACI is left to the tests).
    static let headerSets: [E2EEHeaders] = {
        let clientKey = Hex.encode(client.publicKey.xy)
        let model = keys.ecdsaPublicKeyHex
        return [
            E2EEHeaders(signingAlgo: "ecdsa", clientPublicKey: clientKey, modelPublicKey: model, e2eeVersion: "1"),
            E2EEHeaders(signingAlgo: "ecdsa", clientPublicKey: clientKey, encryptionVersion: "2"),
            E2EEHeaders(signingAlgo: "ecdsa", clientPublicKey: clientKey, encryptionVersion: "1", encryptAllFields: "true"),
        ]
    }()

    static let endpoints: [E2EEEndpoint] = [.chatCompletions, .completions, .embeddings, .rerank, .score]

    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 2 else { return }
        let headers = headerSets[Int(input[0]) % headerSets.count]
        let endpoint = endpoints[Int(input[0] / 8) % endpoints.count]
        let body = Array(input[2...])
        let isObject = body.withUnsafeBytes { JSONValidator.validate($0) } == .object
        let exchange: E2EEExchange?
        do {
            exchange = try E2EEExchange(headers: headers, endpoint: endpoint, keys: server(), keyset: [], now: 0)
        } catch {
            return  // an endpoint the dialect does not cover
        }
        guard var exchange else { Invariant.require(false, "valid E2EE headers read as plaintext"); return }
        switch input[1] % 3 {
        case 0:
            if isObject, let opened = try? exchange.openRequest(body) {
                let kind = opened.withUnsafeBytes { JSONValidator.validate($0) }
                Invariant.require(kind == .object, "an opened request is not a JSON object")
            }
        case 1:
            if isObject, let sealed = try? exchange.sealResponse(body) {
                let kind = sealed.withUnsafeBytes { JSONValidator.validate($0) }
                Invariant.require(kind == .object, "a sealed answer is not a JSON object")
                let before = body.withUnsafeBytes { TopLevelIDExtractor.stringID(in: $0) }
                let after = sealed.withUnsafeBytes { TopLevelIDExtractor.stringID(in: $0) }
                Invariant.require(before == after, "sealing changed the answer's id")
            }
        default:
            let split = body.isEmpty ? 0 : Int(input[1] / 3) % (body.count + 1)
            let whole = stream(exchange, parts: [body])
            let halves = stream(exchange, parts: [Array(body[..<split]), Array(body[split...])])
            Invariant.require(whole.failed == halves.failed, "a split at \(split) changed the verdict")
            if !whole.failed {
                Invariant.require(whole.lines.count == halves.lines.count, "a split changed the number of lines")
                for (a, b) in zip(whole.lines, halves.lines) where !a.starts(with: "data:".utf8) || !b.starts(with: "data:".utf8) {
                    Invariant.require(a == b, "a split changed a line that is not an event")
                }
                // Lines that are not events pass byte for byte.
                let received = lines(body)
                Invariant.require(received.count == whole.lines.count, "sealing changed the number of lines")
                for (a, b) in zip(received, whole.lines) where !a.starts(with: "data:".utf8) {
                    Invariant.require(a == b, "a line that is not an event was changed")
                }
            }
        }
    }

    static func stream(_ exchange: E2EEExchange, parts: [[UInt8]]) -> (lines: [[UInt8]], failed: Bool) {
        var sealer = exchange.streamSealer()
        var output: [UInt8] = []
        do {
            for part in parts {
                output += try part.withUnsafeBytes { bytes in
                    Result { () throws(E2EEError) in try sealer.consume(bytes) }
                }.get()
            }
            output += try sealer.finish()
        } catch {
            return ([], true)
        }
        return (lines(output), false)
    }

    /// Lines with their LF (the last may lack one).
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var start = 0
        for (index, byte) in bytes.enumerated() where byte == 0x0A {
            result.append(Array(bytes[start...index]))
            start = index + 1
        }
        if start < bytes.count { result.append(Array(bytes[start...])) }
        return result
    }
}
