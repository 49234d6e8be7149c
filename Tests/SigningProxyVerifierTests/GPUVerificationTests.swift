import Crypto
import Foundation
import Testing
import X509

@testable import SigningProxyVerifier

@Suite("GPU evidence: nonce at bytes 4..36, P-384 report signature, chain to a pinned root")
struct GPUVerificationTests {
    /// A test PKI standing in for NVIDIA's: root → leaf, P-384.
    struct TestPKI {
        let rootKey = P384.Signing.PrivateKey()
        let leafKey = P384.Signing.PrivateKey()
        let root: Certificate
        let leaf: Certificate

        init() throws {
            let rootName = try DistinguishedName { CommonName("Test Device Identity CA") }
            let leafName = try DistinguishedName { CommonName("Test GPU FMC LF") }
            let start = Fixtures.now.addingTimeInterval(-86_400)
            let end = Fixtures.now.addingTimeInterval(86_400 * 365)
            root = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(rootKey.publicKey), notValidBefore: start,
                notValidAfter: end, issuer: rootName, subject: rootName, signatureAlgorithm: .ecdsaWithSHA384,
                extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
                issuerPrivateKey: .init(rootKey))
            leaf = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(leafKey.publicKey), notValidBefore: start,
                notValidAfter: end, issuer: rootName, subject: leafName, signatureAlgorithm: .ecdsaWithSHA384,
                extensions: try Certificate.Extensions { Critical(BasicConstraints.notCertificateAuthority) },
                issuerPrivateKey: .init(rootKey))
        }

        var anchor: TrustAnchor {
            get throws {
                let der = try root.serializeAsPEM().derBytes
                return TrustAnchor(name: "Test Device Identity CA", derSHA256: Array(SHA256.hash(data: der)))
            }
        }

        var chainPEM: String {
            get throws { try leaf.serializeAsPEM().pemString + "\n" + root.serializeAsPEM().pemString + "\n" }
        }

        /// GET_MEASUREMENTS request with `nonce`, a stand-in response, and the leaf's signature.
        func report(nonce: [UInt8]) throws -> [UInt8] {
            var report: [UInt8] = [0x11, 0xE0, 0x01, 0xFF] + nonce + [0x00]
            report += [0x11, 0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00] + [UInt8](repeating: 0x5a, count: 32) + [0x00, 0x00]
            let signature = try leafKey.signature(for: SHA384.hash(data: report))
            return report + Array(signature.rawRepresentation)
        }
    }

    func payload(pki: TestPKI, nonce: [UInt8], report: [UInt8]? = nil, hexText: Bool = false, gpus: Int = 2) throws -> String {
        let bytes = try report ?? pki.report(nonce: nonce)
        let evidence = hexText ? Data(Fixtures.hex(bytes).utf8) : Data(bytes)
        let item: [String: Any] = [
            "certificate": Data(try pki.chainPEM.utf8).base64EncodedString(),
            "evidence": evidence.base64EncodedString(),
        ]
        return String(decoding: try Fixtures.jsonBytes([
            "nonce": Fixtures.hex(nonce), "evidence_list": Array(repeating: item, count: gpus), "arch": "HOPPER",
        ]), as: UTF8.self)
    }

    func verify(_ payload: String, pki: TestPKI, anchor: TrustAnchor? = nil, now: Date = Fixtures.now) throws -> VerificationReport {
        var simulated = try SimulatedReport.make()
        simulated.nvidiaPayload = payload
        var verifier = ResponseVerifier(options: VerificationOptions(now: now))
        verifier.anchors.nvidia = try anchor ?? pki.anchor
        return verifier.verifyAttestation(try simulated.json(), nonce: Fixtures.nonce)
    }

    @Test("genuine-shaped evidence for two GPUs passes nonce, signature and chain; NRAS is skipped")
    func valid() throws {
        let pki = try TestPKI()
        for hexText in [false, true] {
            let report = try verify(try payload(pki: pki, nonce: Fixtures.nonce, hexText: hexText), pki: pki)
            for id in ["gpu.nonce", "gpu.signature", "gpu.chain"] {
                #expect(report.check(id)?.status == .pass, "\(id) hex=\(hexText): \(report.check(id)?.detail ?? "")")
            }
            #expect(report.check("gpu.nras")?.status == .skip)
        }
    }

    @Test("the real NVIDIA pin rejects a chain ending at another root")
    func realPin() throws {
        let pki = try TestPKI()
        let report = try verify(try payload(pki: pki, nonce: Fixtures.nonce), pki: pki, anchor: .nvidiaDeviceIdentityCA)
        #expect(report.check("gpu.chain")?.status == .fail)
        #expect(report.check("gpu.chain")?.detail.contains("NVIDIA Device Identity CA") == true)
        #expect(report.check("gpu.signature")?.status == .pass)
    }

    @Test("a report carrying another nonce fails gpu.nonce even when the payload nonce is ours")
    func reportNonce() throws {
        let pki = try TestPKI()
        let foreign = try pki.report(nonce: [UInt8](repeating: 9, count: 32))
        let report = try verify(try payload(pki: pki, nonce: Fixtures.nonce, report: foreign), pki: pki)
        #expect(report.check("gpu.nonce")?.status == .fail)
        #expect(report.check("gpu.nonce")?.detail.contains("bytes 4..36") == true)

        let other = try verify(try payload(pki: pki, nonce: [UInt8](repeating: 9, count: 32)), pki: pki)
        #expect(other.check("gpu.nonce")?.detail.contains("not the request nonce") == true)
    }

    @Test("a modified report fails the signature; expired certificates fail the chain")
    func tampered() throws {
        let pki = try TestPKI()
        var bytes = try pki.report(nonce: Fixtures.nonce)
        bytes[50] ^= 1
        let report = try verify(try payload(pki: pki, nonce: Fixtures.nonce, report: bytes), pki: pki)
        #expect(report.check("gpu.signature")?.status == .fail)
        #expect(report.check("gpu.nonce")?.status == .pass)
        let late = try verify(try payload(pki: pki, nonce: Fixtures.nonce), pki: pki, now: Fixtures.now.addingTimeInterval(86_400 * 400))
        #expect(late.check("gpu.chain")?.status == .fail)
    }

    @Test("canned evidence (no certificate, zero signature) fails signature and chain; no evidence is skipped")
    func cannedAndEmpty() throws {
        let pki = try TestPKI()
        var canned: [UInt8] = [0x11, 0xE0, 0x01, 0xFF] + Fixtures.nonce + [0x00]
        canned += [0x11, 0x60, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 34) + [UInt8](repeating: 0, count: 96)
        let text = String(decoding: try Fixtures.jsonBytes([
            "nonce": Fixtures.hex(Fixtures.nonce),
            "evidence_list": [["certificate": "", "evidence": Data(canned).base64EncodedString()]],
            "arch": "HOPPER", "canned": true,
        ]), as: UTF8.self)
        let report = try verify(text, pki: pki)
        #expect(report.check("gpu.nonce")?.status == .pass)
        #expect(report.check("gpu.signature")?.status == .fail)
        #expect(report.check("gpu.chain")?.status == .fail)

        let empty = try verify(#"{"nonce":"\#(Fixtures.hex(Fixtures.nonce))","evidence_list":[],"arch":"HOPPER"}"#, pki: pki)
        #expect(empty.check("gpu.nonce")?.status == .skip)
        var required = ResponseVerifier(options: VerificationOptions(requireGPUEvidence: true, now: Fixtures.now))
        required.anchors.nvidia = try pki.anchor
        var simulated = try SimulatedReport.make()
        simulated.nvidiaPayload = ""
        #expect(required.verifyAttestation(try simulated.json(), nonce: Fixtures.nonce).check("gpu.nonce")?.status == .fail)
    }

    @Test("bad base64 evidence or certificates fail with a reason")
    func badEncodings() throws {
        let pki = try TestPKI()
        let text = String(decoding: try Fixtures.jsonBytes([
            "nonce": Fixtures.hex(Fixtures.nonce),
            "evidence_list": [["certificate": "!!!", "evidence": "%%%"]],
        ]), as: UTF8.self)
        let report = try verify(text, pki: pki)
        #expect(report.check("gpu.nonce")?.detail.contains("not base64") == true)
        #expect(report.check("gpu.signature")?.status == .fail)
        #expect(GPUVerification.decodeEvidence("") == nil)
        #expect(GPUVerification.decodeEvidence(Data("0a0b".utf8).base64EncodedString()) == [0x0a, 0x0b])
        #expect(GPUVerification.decodeEvidence(Data([0x11, 0xe0]).base64EncodedString()) == [0x11, 0xe0])
    }
}
