import Crypto
import Foundation
import Testing
import X509

@testable import SigningProxyVerifier

@Suite("NVIDIA NRAS: ES384 tokens verified by kid before any claim is read, then the claims")
struct NRASVerificationTests {
    let gpu = GPUVerificationTests()

    /// The simulated report with two GPUs of evidence for the fixture nonce, verified with `answer`.
    func verify(answer: [UInt8]? = nil, jwks: [UInt8]? = nil, nras: TestNRAS = TestNRAS(), gpus: Int = 2) throws -> VerificationReport.Check {
        let pki = try GPUVerificationTests.TestPKI()
        var simulated = try SimulatedReport.make()
        simulated.nvidiaPayload = try gpu.payload(pki: pki, nonce: Fixtures.nonce, gpus: gpus)
        let attestation = NRASAttestation(response: try answer ?? nras.answer(nonce: Fixtures.nonce), jwks: try jwks ?? nras.jwks)
        var verifier = ResponseVerifier(options: VerificationOptions(now: Fixtures.now, nras: attestation))
        verifier.anchors.nvidia = try pki.anchor
        let report = verifier.verifyAttestation(try simulated.json(), nonce: Fixtures.nonce)
        #expect(report.check("gpu.signature")?.status == .pass)
        return try #require(report.check("gpu.nras"))
    }

    func expectFailure(_ check: VerificationReport.Check, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(check.status == .fail, sourceLocation: sourceLocation)
        #expect(check.mandatory, sourceLocation: sourceLocation)
        #expect(check.detail.contains(phrase), "\(check.detail)", sourceLocation: sourceLocation)
    }

    @Test("a healthy answer for two GPUs passes and names model, driver and VBIOS")
    func valid() throws {
        let check = try verify()
        #expect(check.status == .pass, "\(check.detail)")
        #expect(check.detail.contains("2 GPU(s)") && check.detail.contains("GPU-1: GH100 A01 GSP BROM, driver 570.133.20, VBIOS 96.00.CF.00.02"))
    }

    @Test("keys given as an x5c certificate work too")
    func x5cKey() throws {
        let nras = TestNRAS()
        let name = try DistinguishedName { CommonName("NRAS test signer") }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(nras.key.publicKey), notValidBefore: Fixtures.now.addingTimeInterval(-60),
            notValidAfter: Fixtures.now.addingTimeInterval(3_600), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA384,
            extensions: Certificate.Extensions(), issuerPrivateKey: .init(nras.key))
        let der = try certificate.serializeAsPEM().derBytes
        let jwks = try Fixtures.jsonBytes(["keys": [["kty": "EC", "kid": nras.kid, "x5c": [Data(der).base64EncodedString()]]]])
        #expect(try verify(jwks: jwks, nras: nras).status == .pass)
    }

    @Test("tokens that do not verify: claims edited after signing, alg none, unknown kid, another key")
    func unverifiedTokens() throws {
        let nras = TestNRAS()
        let answer = try nras.answer(nonce: Fixtures.nonce)
        // Edit the platform token's claims without re-signing (overall result stays true, exp is extended).
        var array = try #require(try JSONSerialization.jsonObject(with: Data(answer)) as? [Any])
        var pair = try #require(array[0] as? [String])
        let parts = pair[1].split(separator: ".").map(String.init)
        let payload = try #require(Base64URL.decode(parts[1]))
        var claims = try #require(try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any])
        claims["exp"] = Fixtures.now.timeIntervalSince1970 + 999_999
        pair[1] = parts[0] + "." + TestNRAS.base64URL(try Fixtures.jsonBytes(claims)) + "." + parts[2]
        array[0] = pair
        expectFailure(try verify(answer: try Fixtures.jsonBytes(array), nras: nras), "signature does not verify")

        let none = try nras.token(["iss": NRASAttestation.nvidiaIssuer], header: ["alg": "none", "kid": nras.kid])
        expectFailure(try verify(answer: try Fixtures.jsonBytes([["JWT", none], [:] as [String: String]]), nras: nras), "not ES384")
        let hs = try nras.token(["iss": NRASAttestation.nvidiaIssuer], header: ["alg": "HS256", "kid": nras.kid])
        expectFailure(try verify(answer: try Fixtures.jsonBytes([["JWT", hs], [:] as [String: String]]), nras: nras), "not ES384")
        // The same kid with another key, and a JWKS without the kid.
        expectFailure(try verify(jwks: try TestNRAS().jwks, nras: nras), "signature does not verify with key nras-test-key-1")
        let renamed = String(decoding: try nras.jwks, as: UTF8.self).replacingOccurrences(of: nras.kid, with: "another-kid")
        expectFailure(try verify(jwks: Array(renamed.utf8), nras: nras), "the JWKS has no P-384 key")
        let forged = try nras.token(nras.gpuClaims(nonce: Fixtures.nonce), signer: P384.Signing.PrivateKey())
        expectFailure(try verify(answer: try Fixtures.jsonBytes([["JWT", forged], [:] as [String: String]]), nras: nras), "signature does not verify")
    }

    @Test("platform claims: nonce, overall result, version, subject, issuer, expiry")
    func platformClaims() throws {
        let nras = TestNRAS()
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("eat_nonce", { $0["eat_nonce"] = String(repeating: "ab", count: 32) }),
            ("x-nvidia-overall-att-result is not true", { $0["x-nvidia-overall-att-result"] = false }),
            ("x-nvidia-ver", { $0["x-nvidia-ver"] = "3.0" }),
            ("sub is", { $0["sub"] = "SOMETHING-ELSE" }),
            ("iss is", { $0["iss"] = "https://evil.example" }),
            ("expired", { $0["exp"] = Fixtures.now.timeIntervalSince1970 - 3_600 }),
            ("not valid before", { $0["nbf"] = Fixtures.now.timeIntervalSince1970 + 3_600 }),
            ("submods", { $0["submods"] = ["GPU-0": ["DIGEST", ["SHA-256", String(repeating: "0", count: 64)]]] }),
        ]
        for (phrase, change) in cases {
            expectFailure(try verify(answer: try nras.answer(nonce: Fixtures.nonce, platform: change), nras: nras), phrase)
        }
    }

    @Test("GPU claims: a false flag, measurements mismatch, debug, another nonce, a digest that does not match")
    func gpuClaims() throws {
        let nras = TestNRAS()
        let cases: [(String, (Int, inout [String: Any]) -> Void)] = [
            ("x-nvidia-gpu-driver-rim-signature-verified", { index, claims in if index == 1 { claims["x-nvidia-gpu-driver-rim-signature-verified"] = false } }),
            ("secboot", { _, claims in claims["secboot"] = nil }),
            ("measres is fail", { _, claims in claims["measres"] = "fail" }),
            ("dbgstat is enabled", { _, claims in claims["dbgstat"] = "enabled" }),
            ("GPU-0 token: eat_nonce", { index, claims in if index == 0 { claims["eat_nonce"] = "00" } }),
        ]
        for (phrase, change) in cases {
            expectFailure(try verify(answer: try nras.answer(nonce: Fixtures.nonce, gpu: change), nras: nras), phrase)
        }
        // A GPU token swapped for another validly signed one no longer matches its digest.
        var array = try #require(try JSONSerialization.jsonObject(with: Data(try nras.answer(nonce: Fixtures.nonce))) as? [Any])
        var tokens = try #require(array[1] as? [String: String])
        tokens["GPU-1"] = try nras.token(nras.gpuClaims(nonce: Fixtures.nonce))
        array[1] = tokens
        expectFailure(try verify(answer: try Fixtures.jsonBytes(array), nras: nras), "submods[GPU-1]")
    }

    @Test("answers of the wrong shape or for another number of GPUs fail")
    func shapes() throws {
        let nras = TestNRAS()
        expectFailure(try verify(answer: try nras.answer(nonce: Fixtures.nonce, gpus: 1), nras: nras), "1 GPU token(s) for 2")
        for bad in ["", "{}", "[]", #"[["JWT"]]"#, #"[["JWS","x"],{}]"#, #"[["JWT","a.b.c"],{"GPU-0":1}]"#, "null"] {
            expectFailure(try verify(answer: Array(bad.utf8), nras: nras), "NRAS")
        }
        expectFailure(try verify(jwks: Array("{".utf8), nras: nras), "JWKS")
    }

    @Test("nvidiaPayload returns the exact payload text to send; nil without GPU evidence")
    func payloadForNRAS() throws {
        var simulated = try SimulatedReport.make()
        simulated.nvidiaPayload = #"{"nonce":"00",  "evidence_list":[],"arch":"HOPPER"}"#
        let json = try simulated.json()
        #expect(ResponseVerifier.nvidiaPayload(inAttestation: json).map { String(decoding: $0, as: UTF8.self) } == simulated.nvidiaPayload)
        #expect(ResponseVerifier.nvidiaPayload(inAttestation: json, signingAddress: Vectors.simulatorAddress.lowercased()) != nil)
        #expect(ResponseVerifier.nvidiaPayload(inAttestation: json, signingAddress: "0x1234") == nil)
        simulated.nvidiaPayload = ""
        #expect(ResponseVerifier.nvidiaPayload(inAttestation: try simulated.json()) == nil)
        #expect(ResponseVerifier.nvidiaPayload(inAttestation: Array("not json".utf8)) == nil)
        // An object payload is re-encoded as JSON.
        var object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        object["all_attestations"] = nil
        object["nvidia_payload"] = ["nonce": "00", "evidence_list": [] as [Any], "arch": "HOPPER"] as [String: Any]
        let encoded = try #require(ResponseVerifier.nvidiaPayload(inAttestation: try Fixtures.jsonBytes(object)))
        #expect((try JSONSerialization.jsonObject(with: Data(encoded)) as? [String: Any])?["arch"] as? String == "HOPPER")
    }

    @Test("with NRAS given but no GPU evidence in the report, gpu.nras is skipped with the reason")
    func noEvidence() throws {
        let nras = TestNRAS()
        var simulated = try SimulatedReport.make()
        simulated.nvidiaPayload = ""
        let options = VerificationOptions(now: Fixtures.now, nras: NRASAttestation(response: [], jwks: try nras.jwks))
        let check = ResponseVerifier(options: options).verifyAttestation(try simulated.json(), nonce: Fixtures.nonce).check("gpu.nras")
        #expect(check?.status == .skip)
        #expect(check?.detail.contains("no readable GPU evidence") == true)
    }
}
