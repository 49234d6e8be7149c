import Foundation
import Testing

@testable import SigningProxyVerifier

@Suite("Intel collateral: real TCB info, QE identity and CRLs for attestation.bin's platform")
struct CollateralVerificationTests {
    static let collateralChecks = [
        "dcap.collateral.tcb-info", "dcap.collateral.qe-identity", "dcap.tdx-module", "dcap.qe-identity", "dcap.tcb-status",
        "dcap.revocation",
    ]

    func verify(
        _ quote: [UInt8]? = nil, collateral: QuoteCollateral? = nil, now: Date = CollateralFixtures.now,
        accept: Set<TCBStatus> = []
    ) throws -> VerificationReport {
        let options = VerificationOptions(
            now: now, collateral: try collateral ?? CollateralFixtures.collateral(), acceptedTCBStatuses: accept)
        return ResponseVerifier(options: options).verifyQuote(try quote ?? CollateralFixtures.attestationBinQuote())
    }

    @Test("attestation.bin at 2026-10-15: signatures to Intel's root, UpToDate, nothing revoked")
    func genuine() throws {
        let report = try verify()
        for id in ["dcap.quote-signature", "dcap.pck-chain"] + Self.collateralChecks {
            #expect(report.check(id)?.status == .pass, "\(id): \(report.check(id)?.detail ?? "missing")")
        }
        #expect(report.ok, "\(report.failures)")
        let status = try #require(report.check("dcap.tcb-status"))
        #expect(status.detail.hasPrefix("UpToDate"))
        #expect(status.detail.contains("TDX module TDX_01 ISVSVN 11 is UpToDate"))
        #expect(report.check("dcap.collateral.tcb-info")?.detail.contains("b0c06f000000") == true)
    }
}

extension CollateralVerificationTests {
    /// The real collateral with `tcb_info.json` (or another file) replaced.
    func collateral(_ change: (inout QuoteCollateral) throws -> Void) throws -> QuoteCollateral {
        var collateral = try CollateralFixtures.collateral()
        try change(&collateral)
        return collateral
    }

    /// `bytes` with the first occurrence of `old` replaced by `new`.
    func replacing(_ old: String, with new: String, in bytes: [UInt8]) throws -> [UInt8] {
        let text = String(decoding: bytes, as: UTF8.self)
        let range = try #require(text.range(of: old))
        return Array(text.replacingCharacters(in: range, with: new).utf8)
    }

    @Test("one byte of the signed tcbInfo changed: the TCB info signature fails, the status is not evaluated")
    func tamperedTCBInfo() throws {
        let report = try verify(collateral: collateral { $0.tcbInfo = try replacing(#""pcesvn":11"#, with: #""pcesvn":10"#, in: $0.tcbInfo) })
        let failed = try #require(report.check("dcap.collateral.tcb-info"))
        #expect(failed.status == .fail && failed.detail.contains("signature does not verify"), "\(failed.detail)")
        #expect(report.check("dcap.tcb-status")?.status == .fail)
        #expect(report.check("dcap.collateral.qe-identity")?.status == .pass)
        #expect(report.check("dcap.revocation")?.status == .pass)
        #expect(!report.ok)
    }

    @Test("the envelope around the signed value may change (key order, spaces): only the exact tcbInfo bytes are signed")
    func reorderedEnvelope() throws {
        let original = String(decoding: try CollateralFixtures.file("tcb_info.json"), as: UTF8.self)
        let inner = try #require(RawJSON.memberValueRange("tcbInfo", in: Array(original.utf8)))
        let value = String(decoding: Array(original.utf8)[inner], as: UTF8.self)
        let signature = try #require(original.range(of: #""signature":"#)).upperBound
        let reordered = "{ \"signature\" : " + original[signature...].dropLast() + " ,\n \"tcbInfo\" :\t" + value + " }"
        let report = try verify(collateral: collateral { $0.tcbInfo = Array(reordered.utf8) })
        #expect(report.check("dcap.collateral.tcb-info")?.status == .pass, "\(report.check("dcap.collateral.tcb-info")?.detail ?? "")")
        #expect(report.check("dcap.tcb-status")?.status == .pass)
    }

    @Test("a re-serialized tcbInfo (same values, other spelling) does not verify")
    func reserializedTCBInfo() throws {
        let original = try CollateralFixtures.file("tcb_info.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(original)) as? [String: Any])
        let report = try verify(collateral: collateral { $0.tcbInfo = try Fixtures.jsonBytes(object) })
        #expect(report.check("dcap.collateral.tcb-info")?.status == .fail)
    }

    @Test("wrong issuer chains: the PCK CA's chain, and a chain to another root, fail at the collateral check")
    func wrongIssuerChain() throws {
        let pckChain = try CollateralFixtures.platformCAChain()
        var report = try verify(collateral: collateral { $0.qeIdentityIssuerChain = pckChain })
        let qe = try #require(report.check("dcap.collateral.qe-identity"))
        #expect(qe.status == .fail && qe.detail.contains("Intel SGX PCK Platform CA"), "\(qe.detail)")
        #expect(report.check("dcap.qe-identity")?.status == .fail)
        #expect(report.check("dcap.tcb-status")?.status == .fail)

        let pki = try TestIntelPKI()
        report = try verify(collateral: collateral { $0.tcbInfoIssuerChain = try TestIntelPKI.pem([pki.tcbSigning, pki.root]) })
        let tcb = try #require(report.check("dcap.collateral.tcb-info"))
        #expect(tcb.status == .fail && tcb.detail.contains("not the pinned Intel SGX Root CA"), "\(tcb.detail)")
    }

    @Test("after nextUpdate the collateral and the PCK CRL are stale: fail, never pass")
    func expired() throws {
        let report = try verify(now: Date(timeIntervalSince1970: 1_794_614_400))  // 2026-11-14
        for id in ["dcap.collateral.tcb-info", "dcap.collateral.qe-identity"] {
            let check = try #require(report.check(id))
            #expect(check.status == .fail && check.detail.contains("expired"), "\(id): \(check.detail)")
        }
        let revocation = try #require(report.check("dcap.revocation"))
        #expect(revocation.status == .fail && revocation.detail.contains("PCK CRL is not current"), "\(revocation.detail)")
        #expect(report.check("dcap.pck-chain")?.status == .pass)
    }

    @Test("collateral for another platform: quote-report.json (FMSPC 90c06f000000) fails the FMSPC match")
    func otherPlatform() throws {
        let report = try verify(try Fixtures.bytes("dstack/quote-report.json"))
        let check = try #require(report.check("dcap.collateral.tcb-info"))
        #expect(check.status == .fail && check.detail.contains("90c06f000000"), "\(check.detail)")
        #expect(report.check("dcap.tcb-status")?.status == .fail)
    }

    @Test("without CRLs revocation is skipped (not passed) while the TCB status is still checked")
    func withoutCRLs() throws {
        let report = try verify(collateral: collateral { $0.pckCRL = nil; $0.rootCACRL = nil })
        #expect(report.check("dcap.revocation")?.status == .skip)
        #expect(report.check("dcap.revocation")?.mandatory == false)
        #expect(report.check("dcap.tcb-status")?.status == .pass)
        #expect(report.ok)
    }

    @Test("CRLs swapped or altered fail dcap.revocation")
    func wrongCRLs() throws {
        var report = try verify(collateral: collateral { $0.pckCRL = $0.rootCACRL })
        var check = try #require(report.check("dcap.revocation"))
        #expect(check.status == .fail && check.detail.contains("PCK CRL is issued by"), "\(check.detail)")
        report = try verify(collateral: collateral { $0.rootCACRL?[100] ^= 1 })
        check = try #require(report.check("dcap.revocation"))
        #expect(check.status == .fail && check.detail.contains("Root CA CRL"), "\(check.detail)")
        report = try verify(collateral: collateral { $0.pckCRL = Array("not a crl".utf8) })
        #expect(report.check("dcap.revocation")?.status == .fail)
        // The same CRL as hex text (as a PCCS serves it) and as PEM is accepted.
        let der = try CollateralFixtures.file("pck_crl.der")
        report = try verify(collateral: collateral { $0.pckCRL = Array(Fixtures.hex(der).utf8) })
        #expect(report.check("dcap.revocation")?.status == .pass)
        let pem = "-----BEGIN X509 CRL-----\n" + Data(der).base64EncodedString(options: .lineLength64Characters) + "\n-----END X509 CRL-----\n"
        report = try verify(collateral: collateral { $0.pckCRL = Array(pem.utf8) })
        #expect(report.check("dcap.revocation")?.status == .pass)
    }

    @Test("malformed collateral documents fail with a reason and never crash")
    func malformed() throws {
        let cases: [(String, (inout QuoteCollateral) -> Void)] = [
            ("not JSON", { $0.tcbInfo = Array("{".utf8) }),
            ("empty", { $0.tcbInfo = [] }),
            ("no member", { $0.tcbInfo = Array(#"{"signature":"00"}"#.utf8) }),
            ("duplicate member", { $0.tcbInfo = Array(#"{"tcbInfo":{},"tcbInfo":{},"signature":"00"}"#.utf8) }),
            ("short signature", { $0.qeIdentity = Array(#"{"enclaveIdentity":{"id":"TD_QE"},"signature":"abcd"}"#.utf8) }),
            ("chain not PEM", { $0.tcbInfoIssuerChain = Array("garbage".utf8) }),
            ("truncated", { $0.qeIdentity = Array($0.qeIdentity.prefix(100)) }),
        ]
        for (name, change) in cases {
            var collateral = try CollateralFixtures.collateral()
            change(&collateral)
            let report = try verify(collateral: collateral)
            #expect(report.check("dcap.tcb-status")?.status == .fail, "\(name)")
            #expect(!report.ok, "\(name)")
        }
    }

    @Test("collateralRequest reads FMSPC and PCK CA from quotes and reports")
    func collateralRequest() throws {
        #expect(
            ResponseVerifier.collateralRequest(forQuote: try CollateralFixtures.attestationBinQuote())
                == CollateralRequest(fmspc: "b0c06f000000", pckCA: "platform"))
        #expect(ResponseVerifier.collateralRequest(forQuote: try Fixtures.bytes("dstack/quote-report.json"))?.fmspc == "90c06f000000")
        let simulated = try SimulatedReport.make().json()
        #expect(ResponseVerifier.collateralRequest(forAttestation: simulated)?.fmspc == "b0c06f000000")
        #expect(ResponseVerifier.collateralRequest(forAttestation: simulated, signingAddress: Vectors.simulatorAddress)?.pckCA == "platform")
        #expect(ResponseVerifier.collateralRequest(forAttestation: simulated, signingAddress: "0x00") == nil)
        #expect(ResponseVerifier.collateralRequest(forQuote: Array("zz".utf8)) == nil)
    }
}
