import Foundation
import Testing
import X509

@testable import SigningProxyVerifier

@Suite("TCB status algorithm and policy, driven through a test PKI shaped like Intel's")
struct TCBPolicyTests {
    typealias Level = TestIntelPKI.Level
    static let sgx = [4, 4, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0]
    static func tdx(_ first: Int, _ second: Int, _ third: Int) -> [Int] { [first, second, third] + [Int](repeating: 0, count: 13) }

    /// Platform levels newest first: UpToDate needs TDX component 2 ≥ 4 and PCESVN 11, then OutOfDate.
    static let levels = [
        Level(sgx: sgx, pcesvn: 11, tdx: tdx(5, 0, 4), status: "UpToDate"),
        Level(sgx: sgx, pcesvn: 11, tdx: tdx(5, 0, 3), status: "SWHardeningNeeded", advisories: ["INTEL-SA-00001"], date: "2025-05-14T00:00:00Z"),
        Level(sgx: sgx, pcesvn: 5, tdx: tdx(5, 0, 2), status: "OutOfDate", advisories: ["INTEL-SA-00002", "INTEL-SA-00003"], date: "2024-03-13T00:00:00Z"),
    ]

    func status(_ report: VerificationReport) -> VerificationReport.Check? { report.check("dcap.tcb-status") }

    @Test("everything current: every collateral check passes on genuine test signatures")
    func upToDate() throws {
        let pki = try TestIntelPKI()
        let report = try pki.verify(try pki.quote(), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels)))
        for id in CollateralVerificationTests.collateralChecks + ["dcap.quote-signature", "dcap.qe-report-signature", "dcap.pck-chain"] {
            #expect(report.check(id)?.status == .pass, "\(id): \(report.check(id)?.detail ?? "missing")")
        }
        #expect(status(report)?.detail.hasPrefix("UpToDate") == true)
    }

    @Test("a lower TDX component selects a lower level; its status passes only when the policy accepts it")
    func lowerLevelNeedsPolicy() throws {
        let pki = try TestIntelPKI()
        let collateral = try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels))
        var values = TestIntelPKI.QuoteValues()
        values.teeTCBSVN[2] = 3
        let quote = try pki.quote(values)
        let refused = try pki.verify(quote, collateral: collateral)
        let check = try #require(status(refused))
        #expect(check.status == .fail && check.detail.hasPrefix("SWHardeningNeeded") && check.detail.contains("INTEL-SA-00001"), "\(check.detail)")
        #expect(check.detail.contains("not accepted"))
        let accepted = try pki.verify(quote, collateral: collateral, accept: [.swHardeningNeeded])
        #expect(status(accepted)?.status == .pass)
        #expect(status(accepted)?.detail.contains("accepted by policy") == true)
        #expect(accepted.ok)
        // Accepting another status does not accept this one.
        #expect(status(try pki.verify(quote, collateral: collateral, accept: [.outOfDate]))?.status == .fail)
    }

    @Test("a lower PCESVN in the PCK certificate selects the OutOfDate level with its advisories")
    func lowerPCESVN() throws {
        let pki = try TestIntelPKI(pck: .init(pceSVN: 6))
        var values = TestIntelPKI.QuoteValues()
        values.teeTCBSVN[2] = 2
        let report = try pki.verify(
            try pki.quote(values), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels)), accept: [.outOfDate])
        let check = try #require(status(report))
        #expect(check.status == .pass && check.detail.hasPrefix("OutOfDate"), "\(check.detail)")
        #expect(check.detail.contains("INTEL-SA-00002, INTEL-SA-00003"))
    }

    @Test("below every level: the TCB is not supported and fails")
    func unsupported() throws {
        let pki = try TestIntelPKI(pck: .init(cpuSVN: [1] + [Int](repeating: 0, count: 15)))
        let report = try pki.verify(try pki.quote(), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels)))
        let check = try #require(status(report))
        #expect(check.status == .fail && check.detail.contains("not supported"), "\(check.detail)")
    }

    @Test("Revoked is never accepted, not even when the policy names every other status")
    func revokedLevel() throws {
        let pki = try TestIntelPKI()
        var revoked = Self.levels[0]
        revoked.status = "Revoked"
        let report = try pki.verify(
            try pki.quote(), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: [revoked])),
            accept: Set(TCBStatus.allCases))
        let check = try #require(status(report))
        #expect(check.status == .fail && check.detail.hasPrefix("Revoked"), "\(check.detail)")
    }

    @Test("TEE_TCB_SVN[1] != 0: bytes 0 and 1 are judged by the TDX module identity, not the platform level")
    func moduleVersion() throws {
        let pki = try TestIntelPKI()
        // Platform level wants TDX component 0 ≥ 5; the module's own SVN is 3.
        var values = TestIntelPKI.QuoteValues()
        values.teeTCBSVN[0] = 3
        let modules: [(id: String, levels: [(isvsvn: Int, status: String)])] = [("TDX_01", [(3, "UpToDate")])]
        var report = try pki.verify(
            try pki.quote(values), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels, modules: modules)))
        #expect(status(report)?.status == .pass, "\(status(report)?.detail ?? "")")
        #expect(status(report)?.detail.contains("TDX module TDX_01 ISVSVN 3 is UpToDate") == true)

        // With TEE_TCB_SVN[1] = 0 the same byte 0 is compared with the platform levels (5 > 3: no level).
        values.teeTCBSVN[1] = 0
        report = try pki.verify(
            try pki.quote(values), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels, modules: modules)))
        #expect(status(report)?.status == .fail)
        #expect(status(report)?.detail.contains("TEE_TCB_SVN") == true, "\(status(report)?.detail ?? "")")
    }

    @Test("an OutOfDate TDX module lowers UpToDate to OutOfDate; a missing module identity fails dcap.tdx-module")
    func moduleStatus() throws {
        let pki = try TestIntelPKI()
        let outOfDate: [(id: String, levels: [(isvsvn: Int, status: String)])] = [("TDX_01", [(12, "UpToDate"), (2, "OutOfDate")])]
        var report = try pki.verify(
            try pki.quote(), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels, modules: outOfDate)))
        #expect(status(report)?.detail.hasPrefix("OutOfDate (") == true, "\(status(report)?.detail ?? "")")
        #expect(status(report)?.status == .fail)

        report = try pki.verify(
            try pki.quote(), collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels, modules: [("TDX_03", [(0, "UpToDate")])])))
        #expect(report.check("dcap.tdx-module")?.status == .fail)
        #expect(report.check("dcap.tdx-module")?.detail.contains("TDX_01") == true)
        #expect(status(report)?.status == .fail)
    }

    @Test("MRSIGNERSEAM or SEAMATTRIBUTES other than the collateral's fail dcap.tdx-module")
    func moduleSigner() throws {
        let pki = try TestIntelPKI()
        let collateral = try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels))
        var values = TestIntelPKI.QuoteValues()
        values.mrSignerSeam[0] = 1
        var report = try pki.verify(try pki.quote(values), collateral: collateral)
        #expect(report.check("dcap.tdx-module")?.detail.contains("MRSIGNERSEAM") == true)
        #expect(report.check("dcap.tdx-module")?.status == .fail)
        values = TestIntelPKI.QuoteValues()
        values.seamAttributes[7] = 0x80
        report = try pki.verify(try pki.quote(values), collateral: collateral)
        #expect(report.check("dcap.tdx-module")?.detail.contains("SEAMATTRIBUTES") == true)
        #expect(status(report)?.status == .fail)
    }

    @Test("QE identity: an old QE ISVSVN lowers the status; another MRSIGNER fails dcap.qe-identity")
    func qeIdentity() throws {
        let pki = try TestIntelPKI()
        var values = TestIntelPKI.QuoteValues()
        values.qeISVSVN = 3
        let levels: [(isvsvn: Int, status: String)] = [(4, "UpToDate"), (2, "OutOfDate")]
        var report = try pki.verify(try pki.quote(values), collateral: try pki.collateral(qeIdentity: pki.qeIdentityJSON(levels: levels)))
        #expect(status(report)?.detail.hasPrefix("OutOfDate") == true, "\(status(report)?.detail ?? "")")
        #expect(status(report)?.detail.contains("QE ISVSVN 3 is OutOfDate") == true)

        values.qeISVSVN = 1
        report = try pki.verify(try pki.quote(values), collateral: try pki.collateral(qeIdentity: pki.qeIdentityJSON(levels: levels)))
        #expect(status(report)?.detail.contains("not supported") == true)

        report = try pki.verify(
            try pki.quote(), collateral: try pki.collateral(qeIdentity: pki.qeIdentityJSON(mrsigner: String(repeating: "AB", count: 32))))
        #expect(report.check("dcap.qe-identity")?.status == .fail)
        #expect(report.check("dcap.qe-identity")?.detail.contains("MRSIGNER") == true)
        #expect(status(report)?.status == .fail)
    }

    @Test("revoked serials: PCK certificate in the PCK CRL, PCK CA or TCB signer in the Root CA CRL")
    func revokedSerials() throws {
        let pki = try TestIntelPKI()
        let quote = try pki.quote()
        let cases: [(QuoteCollateral, String)] = [
            (try pki.collateral(pckRevoked: [Certificate.SerialNumber(7), pki.leaf.serialNumber]), "PCK certificate"),
            (try pki.collateral(rootRevoked: [pki.ca.serialNumber]), "Test SGX PCK Platform CA"),
            (try pki.collateral(rootRevoked: [pki.tcbSigning.serialNumber]), "Intel SGX TCB Signing"),
        ]
        for (collateral, name) in cases {
            let check = try #require(try pki.verify(quote, collateral: collateral).check("dcap.revocation"))
            #expect(check.status == .fail && check.detail.contains("revoked") && check.detail.contains(name), "\(check.detail)")
        }
        // Other serials revoked: fine.
        let report = try pki.verify(quote, collateral: try pki.collateral(pckRevoked: [Certificate.SerialNumber(7)]))
        #expect(report.check("dcap.revocation")?.status == .pass, "\(report.check("dcap.revocation")?.detail ?? "")")
        #expect(report.check("dcap.revocation")?.detail.contains("1 revoked") == true)
    }

    @Test("CRLs signed by the wrong key, or not yet valid, fail dcap.revocation")
    func badCRLs() throws {
        let pki = try TestIntelPKI()
        let quote = try pki.quote()
        var collateral = try pki.collateral()
        collateral.pckCRL = try TestIntelPKI.crl(issuer: pki.ca, key: pki.rootKey)
        var check = try #require(try pki.verify(quote, collateral: collateral).check("dcap.revocation"))
        #expect(check.status == .fail && check.detail.contains("signature does not verify"), "\(check.detail)")
        collateral = try pki.collateral()
        collateral.rootCACRL = try TestIntelPKI.crl(
            issuer: pki.root, key: pki.rootKey, thisUpdate: CollateralFixtures.now.addingTimeInterval(3_600))
        check = try #require(try pki.verify(quote, collateral: collateral).check("dcap.revocation"))
        #expect(check.status == .fail && check.detail.contains("not current"), "\(check.detail)")
    }

    @Test("collateral signed by a key other than the TCB signing certificate's, or by a certificate of another name")
    func wrongSigner() throws {
        let pki = try TestIntelPKI()
        var collateral = try pki.collateral()
        collateral.tcbInfo = try pki.signed(member: "tcbInfo", json: pki.tcbInfoJSON(levels: Self.levels), key: pki.caKey)
        var report = try pki.verify(try pki.quote(), collateral: collateral)
        #expect(report.check("dcap.collateral.tcb-info")?.detail.contains("signature does not verify") == true)

        let other = try TestIntelPKI(tcbSigningName: "Some Other Signer")
        report = try other.verify(try other.quote(), collateral: try other.collateral())
        #expect(report.check("dcap.collateral.tcb-info")?.detail.contains("not an \"Intel SGX TCB Signing\" certificate") == true)
        #expect(report.check("dcap.collateral.qe-identity")?.status == .fail)
    }

    @Test("wrong document kinds: SGX TCB info, TCB info for another FMSPC, an SGX QE identity")
    func wrongDocuments() throws {
        let pki = try TestIntelPKI()
        let quote = try pki.quote()
        let tdx = pki.tcbInfoJSON(levels: Self.levels)
        var report = try pki.verify(
            quote, collateral: try pki.collateral(tcbInfo: tdx.replacingOccurrences(of: #""id":"TDX","version":3"#, with: #""id":"SGX","version":3"#)))
        #expect(report.check("dcap.collateral.tcb-info")?.detail.contains("not TDX") == true)
        report = try pki.verify(quote, collateral: try pki.collateral(tcbInfo: pki.tcbInfoJSON(levels: Self.levels, fmspc: "00606A000000")))
        #expect(report.check("dcap.collateral.tcb-info")?.detail.contains("FMSPC") == true)
        report = try pki.verify(
            quote, collateral: try pki.collateral(qeIdentity: pki.qeIdentityJSON().replacingOccurrences(of: "TD_QE", with: "QE")))
        #expect(report.check("dcap.collateral.qe-identity")?.detail.contains("not TD_QE") == true)
    }

    @Test("convergence: an OutOfDate module or QE turns ConfigurationNeeded into OutOfDateConfigurationNeeded; Revoked wins")
    func convergence() {
        #expect(TCBEvaluation.converge(.upToDate, with: .outOfDate) == .outOfDate)
        #expect(TCBEvaluation.converge(.swHardeningNeeded, with: .outOfDate) == .outOfDate)
        #expect(TCBEvaluation.converge(.configurationNeeded, with: .outOfDate) == .outOfDateConfigurationNeeded)
        #expect(TCBEvaluation.converge(.configurationAndSWHardeningNeeded, with: .outOfDate) == .outOfDateConfigurationNeeded)
        #expect(TCBEvaluation.converge(.configurationNeeded, with: .upToDate) == .configurationNeeded)
        #expect(TCBEvaluation.converge(.upToDate, with: .revoked) == .revoked)
        #expect(TCBEvaluation.converge(.revoked, with: .upToDate) == .revoked)
        #expect(TCBEvaluation.moduleIdentityID(1) == "TDX_01")
        #expect(TCBEvaluation.moduleIdentityID(0x1a) == "TDX_1A")
    }
}

@Suite("collateral parsing helpers: raw JSON members, PCS times, CRLs")
struct CollateralParsingTests {
    @Test("RawJSON finds the exact bytes of a top-level member and rejects malformed objects")
    func rawJSON() {
        let text = #" { "a" : {"x":"}\"{","y":[1,{"z":2}]} , "b":"s\"t", "c": -1.5e3 } "#
        let bytes = Array(text.utf8)
        func value(_ key: String) -> String? { RawJSON.memberValueRange(key, in: bytes).map { String(decoding: bytes[$0], as: UTF8.self) } }
        #expect(value("a") == #"{"x":"}\"{","y":[1,{"z":2}]}"#)
        #expect(value("b") == #""s\"t""#)
        #expect(value("c") == "-1.5e3")
        #expect(value("x") == nil)  // nested, not top level
        for bad in ["", "[]", "{", #"{"a":}"#, #"{"a":1,}"#, #"{"a":1}x"#, #"{"a":"unterminated}"#, #"{"a":1,"a":2}"#, #"{"a":{"b":1}"#] {
            #expect(RawJSON.memberValueRange("a", in: Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test("PCSTime parses RFC 3339 UTC and rejects anything else")
    func times() {
        #expect(PCSTime.parse("2026-10-08T00:09:46Z") == Date(timeIntervalSince1970: 1_791_418_186))
        #expect(PCSTime.parse("1970-01-01T00:00:00Z") == Date(timeIntervalSince1970: 0))
        #expect(PCSTime.parse("2024-02-29T23:59:59.250Z") == Date(timeIntervalSince1970: 1_709_251_199))
        for bad in ["", "2026-10-08", "2026-10-08T00:09:46", "2026-10-08T00:09:46+01:00", "2026-13-08T00:09:46Z", "2026-1x-08T00:09:46Z"] {
            #expect(PCSTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("the real Intel CRLs parse: issuer, dates, 57 revoked serials")
    func realCRLs() throws {
        let pck = try RevocationList.parse(CollateralFixtures.file("pck_crl.der")).get()
        #expect(pck.revokedSerials.count == 57)
        #expect(pck.thisUpdate == Date(timeIntervalSince1970: 1_791_419_306))
        #expect(pck.revokedSerials.contains(Fixtures.hex("6fc34e5023e728923435d61aa4b83c618166ad35")))
        let root = try RevocationList.parse(CollateralFixtures.file("root_ca_crl.der")).get()
        #expect(root.revokedSerials.isEmpty)
        #expect(root.nextUpdate == Date(timeIntervalSince1970: 1_803_647_040))
        for bad: [UInt8] in [[], [0x30], [0x30, 0x03, 0x02, 0x01, 0x01], Array("zz".utf8), Array("-----BEGIN X509 CRL-----\n".utf8)] {
            #expect((try? RevocationList.parse(bad).get()) == nil)
        }
    }
}
