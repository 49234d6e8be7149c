import Crypto
import Foundation
import SigningContract
import Testing

@testable import SigningProxyVerifier

@Suite("Signature checks with the reference vectors")
struct SignatureVerificationTests {
    let verifier = ResponseVerifier(options: VerificationOptions(expectedModel: "tiny", now: Fixtures.now))

    func response() throws -> [UInt8] { try Fixtures.bytes("vllm/chat-stream.body") }

    @Test("format A, Hardhat key: hashes and EIP-191 recovery pass")
    func ecdsaFormatA() throws {
        let record = try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.hardhatSignatureA, address: Vectors.hardhatAddress, algo: "ecdsa")
        let report = verifier.verifySignature(request: Fixtures.request, response: try response(), signature: record)
        #expect(report.ok, "\(report.failures)")
        #expect(report.checks.map(\.id) == [
            "signature.record", "signature.text", "signature.request-hash", "signature.response-hash", "signature.ecdsa",
        ])
        #expect(report.checks.allSatisfy { $0.status == .pass })
        // Addresses compare case-insensitively.
        let lower = try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.hardhatSignatureA, address: Vectors.hardhatAddress.lowercased(), algo: "ecdsa")
        #expect(verifier.verifySignature(request: Fixtures.request, response: try response(), signature: lower).ok)
    }

    @Test("format B (tiny:…): model checked against the expected model")
    func ecdsaFormatB() throws {
        let record = try Vectors.signatureRecord(
            text: "tiny:" + Vectors.textA, signature: Vectors.hardhatSignatureB, address: Vectors.hardhatAddress, algo: "ecdsa")
        let report = verifier.verifySignature(request: Fixtures.request, response: try response(), signature: record)
        #expect(report.ok, "\(report.failures)")
        #expect(report.check("signature.text")?.detail.contains("\"tiny\"") == true)
        let other = ResponseVerifier(options: VerificationOptions(expectedModel: "big"))
        let mismatch = other.verifySignature(request: Fixtures.request, response: try response(), signature: record)
        #expect(mismatch.failures.map(\.id) == ["signature.text"])
    }

    @Test("ed25519 (RFC 8032 key) over format A, and over a model name containing ':'")
    func ed25519() throws {
        let record = try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.rfc8032SignatureA, address: Vectors.rfc8032Public, algo: "ed25519")
        let report = verifier.verifySignature(request: Fixtures.request, response: try response(), signature: record)
        #expect(report.ok, "\(report.failures)")
        #expect(report.check("signature.ed25519")?.status == .pass)

        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: Fixtures.hex(Vectors.rfc8032Seed))
        let text = "org:model:v1:" + Vectors.textA
        let signature = try key.signature(for: Array(text.utf8))
        let colon = try Vectors.signatureRecord(
            text: text, signature: Fixtures.hex(signature), address: Vectors.rfc8032Public, algo: "ed25519")
        let modelVerifier = ResponseVerifier(options: VerificationOptions(expectedModel: "org:model:v1"))
        let colonReport = modelVerifier.verifySignature(request: Fixtures.request, response: try response(), signature: colon)
        #expect(colonReport.ok, "\(colonReport.failures)")
        #expect(colonReport.check("signature.text")?.detail.contains("org:model:v1") == true)
    }

    @Test("signed text parsing: last two fields are the hashes, the model may contain ':'")
    func signedText() throws {
        let hashA = String(repeating: "a", count: 64)
        let hashB = String(repeating: "b", count: 64)
        #expect(try SignedText.parse("\(hashA):\(hashB)").get() == SignedText(model: nil, requestHash: hashA, responseHash: hashB))
        #expect(try SignedText.parse("a:b:c:\(hashA):\(hashB)").get().model == "a:b:c")
        #expect(try SignedText.parse(":\(hashA):\(hashB)").get().model == "")
        for bad in ["", hashA, "\(hashA):\(hashB.uppercased())", "\(hashA):\(hashB)0", "\(hashA)::\(hashB)", "x:\(hashA)"] {
            #expect(throws: (any Error).self, "\(bad)") { try SignedText.parse(bad).get() }
        }
    }

    @Test("another response or request fails the matching hash check")
    func wrongBodies() throws {
        let record = try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.hardhatSignatureA, address: Vectors.hardhatAddress, algo: "ecdsa")
        var response = try response()
        response[10] ^= 1
        let report = verifier.verifySignature(request: Fixtures.request, response: response, signature: record)
        #expect(report.failures.map(\.id) == ["signature.response-hash"])
        let request = Array(Fixtures.request.dropLast()) + [UInt8(ascii: " "), UInt8(ascii: "}")]
        let requestReport = verifier.verifySignature(request: request, response: try self.response(), signature: record)
        #expect(requestReport.failures.map(\.id) == ["signature.request-hash"])
    }

    @Test("wrong signer, high S, tampered text and bad encodings fail signature.ecdsa")
    func ecdsaFailures() throws {
        func check(_ signature: String, address: String = Vectors.hardhatAddress, text: String = Vectors.textA) throws -> VerificationReport.Check? {
            let record = try Vectors.signatureRecord(text: text, signature: signature, address: address, algo: "ecdsa")
            return verifier.verifySignature(request: Fixtures.request, response: try response(), signature: record)
                .check("signature.ecdsa")
        }
        #expect(try check(Vectors.hardhatSignatureA, address: Vectors.simulatorAddress)?.status == .fail)
        // s' = n − s with the other recovery id recovers the same key, but is malleable: rejected.
        let highS = try check(Self.highS(Vectors.hardhatSignatureA))
        #expect(highS?.status == .fail)
        #expect(highS?.detail.contains("high S") == true)
        // v as 0/1 is accepted.
        var zeroBased = Fixtures.hex(String(Vectors.hardhatSignatureA.dropFirst(2)))
        zeroBased[64] -= 27
        #expect(try check("0x" + Fixtures.hex(zeroBased))?.status == .pass)
        #expect(try check(Vectors.hardhatSignatureA, text: "tiny:" + Vectors.textA)?.status == .fail)
        for bad in ["", "0x", "0x1234", String(Vectors.hardhatSignatureA.dropLast(2)) + "1d", "0xzz" + String(Vectors.hardhatSignatureA.dropFirst(4))] {
            let result = try check(bad)
            #expect(result?.status == .fail, "\(bad)")
        }
        #expect(try check(Vectors.hardhatSignatureA, address: "0x1234")?.detail.contains("not a 20-byte") == true)
    }

    @Test("ed25519 with a wrong key, bad lengths or a flipped bit fails")
    func ed25519Failures() throws {
        func check(_ signature: String, address: String = Vectors.rfc8032Public) throws -> VerificationReport.Check? {
            let record = try Vectors.signatureRecord(text: Vectors.textA, signature: signature, address: address, algo: "ed25519")
            return verifier.verifySignature(request: Fixtures.request, response: try response(), signature: record)
                .check("signature.ed25519")
        }
        #expect(try check(Vectors.rfc8032SignatureA, address: Vectors.simulatorEd25519Public)?.status == .fail)
        #expect(try check("00" + Vectors.rfc8032SignatureA.dropFirst(2))?.status == .fail)
        #expect(try check(String(Vectors.rfc8032SignatureA.dropLast(2)))?.detail.contains("128 hex") == true)
        #expect(try check(Vectors.rfc8032SignatureA, address: "abcd")?.detail.contains("32-byte") == true)
    }

    @Test("malformed signature records fail signature.record with the reason")
    func malformedRecords() throws {
        let cases: [(String, String)] = [
            ("", "not JSON"),
            ("{", "not JSON"),
            ("[]", "expected"),
            (#"{"signature":"0x","signing_address":"0x"}"#, "missing field \"text\""),
            (#"{"text":1,"signature":"0x","signing_address":"0x"}"#, "expected"),
            (#"{"text":"a","signature":"0x","signing_address":"0x","signing_algo":"rsa"}"#, "neither ecdsa nor ed25519"),
        ]
        for (input, reason) in cases {
            let report = verifier.verifySignature(request: [], response: [], signature: Array(input.utf8))
            let check = report.check("signature.record")
            #expect(check?.status == .fail, "\(input)")
            #expect(check?.detail.contains(reason) == true, "\(input): \(check?.detail ?? "")")
        }
    }

    /// Turns a valid 65-byte `r‖s‖v` hex signature into its high-S twin.
    static func highS(_ signature: String) -> String {
        let order = Fixtures.hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        var bytes = Fixtures.hex(String(signature.dropFirst(2)))
        var borrow = 0
        var result = [UInt8](repeating: 0, count: 32)
        for index in (0..<32).reversed() {
            let value = Int(order[index]) - Int(bytes[32 + index]) - borrow
            result[index] = UInt8((value + 256) % 256)
            borrow = value < 0 ? 1 : 0
        }
        bytes.replaceSubrange(32..<64, with: result)
        bytes[64] = bytes[64] == 27 ? 28 : 27
        return "0x" + Fixtures.hex(bytes)
    }
}
