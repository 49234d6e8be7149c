import Foundation
import SigningProxyVerifier
import Testing

/// Uses nothing but the public API of the library product, as an app or agent would.
@Suite("Library product used on its own")
struct LibraryOnlyTests {
    @Test("a recorded exchange (reference request, chat-stream.body, Hardhat signature) verifies")
    func recordedExchange() throws {
        let request = Array(
            #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"seed":1}"#
                .utf8)
        #expect(request.count == 141)
        let response = try Fixtures.bytes("vllm/chat-stream.body")
        let record = Array(#"""
            {"text":"5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538","signature":"0xdd181f26da45d3db6f8b88bff3af8213499cea485974d32225978eb5555e89707741b90e5eb674c9b304dda6ff9029f82cc7178475b5ef1c2cb8716a6e28289c1b","signing_address":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","signing_algo":"ecdsa"}
            """#.utf8)
        let verifier = ResponseVerifier()
        let report = verifier.verifySignature(request: request, response: response, signature: record)
        #expect(report.ok)
        #expect(report.checks.count == 5)
        #expect(report.checks.allSatisfy { $0.status == .pass && !$0.detail.isEmpty })

        // The same record with one response byte changed.
        var altered = response
        altered[altered.count - 3] ^= 0x20
        let bad = verifier.verifySignature(request: request, response: altered, signature: record)
        #expect(!bad.ok)
        #expect(bad.failures.map(\.id) == ["signature.response-hash"])

        // A signature alone is not an attestation: the full check without a report fails on the report.
        let full = verifier.verify(request: request, response: response, signature: record, attestation: Array("{}".utf8), nonce: [UInt8](repeating: 0, count: 32))
        #expect(!full.ok)
        #expect(full.check("report.entry")?.status == .fail)
    }

    @Test("the real tdx-lite quote verifies to Intel's root through the public API")
    func quote() throws {
        let options = VerificationOptions(now: Date(timeIntervalSince1970: 1_800_000_000))
        let report = ResponseVerifier(options: options).verifyQuote(try Fixtures.bytes("dstack/tdx-lite-getquote.json"))
        #expect(report.ok)
        #expect(report.check("dcap.pck-chain")?.status == .pass)
        #expect(report.check("measurements.rtmr-replay")?.status == .pass)
    }
}
