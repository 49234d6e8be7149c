import Crypto
import SwiftASN1
import TDX
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// DCAP checks of a TDX quote: offline (to the pinned Intel root), then the collateral checks, skipped
/// without collateral.
enum DCAPVerification {
    /// Checks the header, quote signature, QE report binding, QE report signature and the PCK chain
    /// to `anchor`; then, with `options.collateral`, the TCB status and revocation.
    static func run(quote: TDXQuote, anchor: TrustAnchor = .intelSGXRootCA, options: VerificationOptions, into checks: inout CheckList) {
        let now = options.now
        checkHeader(quote, into: &checks)
        let auth = quote.authData

        // 2. Quote signature by the attestation key over header and body.
        if let key = try? P256.Signing.PublicKey(rawRepresentation: auth.attestationKey),
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: auth.quoteSignature)
        {
            checks.expect(
                key.isValidSignature(signature, for: Data(quote.signedBytes)), "dcap.quote-signature",
                pass: "ECDSA P-256 signature over quote bytes \(quote.signedRange) verifies with the attestation key",
                fail: "ECDSA P-256 signature over quote bytes \(quote.signedRange) does not verify with the attestation key "
                    + "(the header or TD report, e.g. REPORTDATA, was modified after signing)")
        } else {
            checks.fail("dcap.quote-signature", "the attestation key is not a P-256 point or the signature is not r‖s")
        }

        // 3. The QE binds the attestation key in its report data.
        let expected = Array(SHA256.hash(data: auth.attestationKey + auth.qeAuthData))
        let reportData = auth.qeReportData
        checks.expect(
            Array(reportData[0..<32]) == expected && reportData[32..<64].allSatisfy { $0 == 0 }, "dcap.qe-report-data",
            pass: "QE report data = sha256(attestation key ‖ QE auth data) ‖ zeros",
            fail: "QE report data \(HexFormatting.short(reportData)) is not sha256(attestation key ‖ QE auth data) ‖ zeros")

        // 4 and 5. QE report signature by the PCK leaf; chain to the pinned root.
        let chain: CertificateChain
        switch CertificateChain.parse(pem: auth.pckChainPEM) {
        case .failure(let failure):
            checks.fail("dcap.qe-report-signature", "PCK leaf unavailable: \(failure.description)")
            checks.fail("dcap.pck-chain", "PCK \(failure.description)")
            if options.collateral != nil {
                for id in ["dcap.tcb-status", "dcap.revocation"] { checks.fail(id, "PCK certificate unavailable: \(failure.description)") }
            } else {
                skipCollateral(fmspc: nil, into: &checks)
            }
            return
        case .success(let parsed):
            chain = parsed
        }
        if let leafKey = P256.Signing.PublicKey(chain.leaf.publicKey),
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: auth.qeReportSignature)
        {
            checks.expect(
                leafKey.isValidSignature(signature, for: Data(auth.qeReport)), "dcap.qe-report-signature",
                pass: "QE report signature verifies with the PCK leaf key (\(CertificateChain.commonName(chain.leaf) ?? "leaf"))",
                fail: "QE report signature does not verify with the PCK leaf key")
        } else {
            checks.fail("dcap.qe-report-signature", "the PCK leaf key is not P-256 or the QE report signature is not r‖s")
        }
        let chainProblem = chain.verify(to: anchor, now: now)
        if let chainProblem {
            checks.fail("dcap.pck-chain", "PCK chain: \(chainProblem)")
        } else {
            let names = chain.certificates.map { CertificateChain.commonName($0) ?? "?" }.joined(separator: " ← ")
            checks.pass("dcap.pck-chain", "\(names): every link verifies, valid at \(now), root is the pinned \(anchor.name)")
        }
        if let collateral = options.collateral {
            CollateralVerification.run(
                .init(quote: quote, pckChain: chain, pckChainVerified: chainProblem == nil, collateral: collateral),
                anchor: anchor, options: options, into: &checks)
        } else {
            skipCollateral(fmspc: fmspc(of: chain.leaf), into: &checks)
        }
    }

    /// 1. Header: version 4 or 5, ECDSA P-256 key, TDX, Intel QE.
    static func checkHeader(_ quote: TDXQuote, into checks: inout CheckList) {
        var problems: [String] = []
        if quote.attestationKeyType != TDXQuote.attestationKeyTypeECDSAP256 {
            problems.append("attestation key type \(quote.attestationKeyType) (expected 2, ECDSA P-256)")
        }
        if quote.teeType != TDXQuote.teeTypeTDX {
            problems.append("TEE type 0x\(String(quote.teeType, radix: 16)) (expected 0x81, TDX)")
        }
        if quote.qeVendorID != TDXQuote.intelQEVendorID {
            problems.append("QE vendor \(HexFormatting.full(quote.qeVendorID)) is not Intel's")
        }
        let body = quote.bodyType.map { ", body type \($0)" } ?? ""
        if problems.isEmpty {
            checks.pass("quote.header", "TDX quote v\(quote.version)\(body), ECDSA P-256 attestation key, Intel QE")
        } else {
            checks.fail("quote.header", problems.joined(separator: "; "))
        }
    }

    private static func skipCollateral(fmspc: [UInt8]?, into checks: inout CheckList) {
        let platform = fmspc.map { " for FMSPC \(HexFormatting.full($0))" } ?? ""
        checks.skip(
            "dcap.tcb-status",
            "offline: the TCB level\(platform) and QE identity need Intel collateral (TCB info, QE identity) that was not given",
            mandatory: false)
        checks.skip(
            "dcap.revocation",
            "offline: PCK and root revocation need Intel's CRLs (collateral) that were not given",
            mandatory: false)
    }

    /// FMSPC: OID 1.2.840.113741.1.13.1.4 inside the PCK leaf's SGX extension.
    static func fmspc(of leaf: Certificate) -> [UInt8]? {
        try? PCKExtension.parse(leaf).get().fmspc
    }
}
