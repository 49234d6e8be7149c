import Crypto
import TDX
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The checks that need Intel collateral: collateral signatures and freshness,
/// TDX module and QE identity, the converged TCB status under the caller's policy, and revocation.
enum CollateralVerification {
    /// The quote side, already parsed and (partly) verified by the offline DCAP checks.
    struct Inputs {
        var quote: TDXQuote
        var pckChain: CertificateChain
        /// Whether `dcap.pck-chain` passed: an unverified PCK certificate's TCB proves nothing.
        var pckChainVerified: Bool
        var collateral: QuoteCollateral
    }

    /// A collateral document whose signature, signer chain and freshness were checked.
    private struct Verified<Value: Decodable> {
        var document: SignedCollateralDocument<Value>
        var signer: CertificateChain
    }

    static let tcbSigningName = "Intel SGX TCB Signing"

    static func run(_ inputs: Inputs, anchor: TrustAnchor, options: VerificationOptions, into checks: inout CheckList) {
        let now = options.now
        let pck = PCKExtension.parse(inputs.pckChain.leaf)

        // TCB info: signature, signer chain, freshness, and that it is the TDX TCB info for this platform.
        let tcbInfo = verifySigned(
            TCBInfo.self, inputs.collateral.tcbInfo, member: "tcbInfo", chainPEM: inputs.collateral.tcbInfoIssuerChain,
            what: "TCB info", anchor: anchor, now: now
        ).flatMap { verified -> Result<Verified<TCBInfo>, LenientJSON.Failure> in
            let info = verified.document.value
            guard info.id == "TDX", info.version >= 3 else {
                return .failure(.init(description: "TCB info is \(info.id) version \(info.version), not TDX version 3"))
            }
            if let problem = freshness(issueDate: info.issueDate, nextUpdate: info.nextUpdate, now: now, what: "TCB info") {
                return .failure(.init(description: problem))
            }
            if case .success(let pck) = pck {
                guard HexFormatting.decode(info.fmspc) == pck.fmspc else {
                    return .failure(.init(
                        description: "TCB info is for FMSPC \(info.fmspc.lowercased()), the PCK certificate's is \(HexFormatting.full(pck.fmspc))"))
                }
                if let pceID = info.pceId, !pck.pceID.isEmpty, HexFormatting.decode(pceID) != pck.pceID {
                    return .failure(.init(description: "TCB info is for PCEID \(pceID), the PCK certificate's is \(HexFormatting.full(pck.pceID))"))
                }
            }
            return .success(verified)
        }
        switch tcbInfo {
        case .failure(let failure):
            checks.fail("dcap.collateral.tcb-info", failure.description)
        case .success(let verified):
            let info = verified.document.value
            checks.pass(
                "dcap.collateral.tcb-info",
                "TDX TCB info for FMSPC \(info.fmspc.lowercased()) (evaluation data number \(info.tcbEvaluationDataNumber.map(String.init) ?? "?"), "
                    + "issued \(info.issueDate), next update \(info.nextUpdate)) is signed by \(names(verified.signer)) to the pinned \(anchor.name)")
        }

        // QE identity: the same, for the TD QE.
        let qeIdentity = verifySigned(
            EnclaveIdentity.self, inputs.collateral.qeIdentity, member: "enclaveIdentity",
            chainPEM: inputs.collateral.qeIdentityIssuerChain, what: "QE identity", anchor: anchor, now: now
        ).flatMap { verified -> Result<Verified<EnclaveIdentity>, LenientJSON.Failure> in
            let identity = verified.document.value
            guard identity.id == "TD_QE", identity.version == 2 else {
                return .failure(.init(description: "QE identity is \(identity.id) version \(identity.version), not TD_QE version 2"))
            }
            if let problem = freshness(issueDate: identity.issueDate, nextUpdate: identity.nextUpdate, now: now, what: "QE identity") {
                return .failure(.init(description: problem))
            }
            return .success(verified)
        }
        switch qeIdentity {
        case .failure(let failure):
            checks.fail("dcap.collateral.qe-identity", failure.description)
        case .success(let verified):
            let identity = verified.document.value
            checks.pass(
                "dcap.collateral.qe-identity",
                "TD_QE identity (issued \(identity.issueDate), next update \(identity.nextUpdate)) is signed by \(names(verified.signer)) "
                    + "to the pinned \(anchor.name)")
        }

        let moduleOK = checkTDXModule(inputs.quote, tcbInfo: try? tcbInfo.get().document.value, into: &checks)
        let qeOK = checkQEIdentity(inputs.quote.authData, identity: try? qeIdentity.get().document.value, into: &checks)
        checkTCBStatus(
            inputs, pck: pck, tcbInfo: try? tcbInfo.get().document.value, qeIdentity: try? qeIdentity.get().document.value,
            prerequisitesOK: moduleOK && qeOK, options: options, into: &checks)
        RevocationVerification.run(
            .init(
                pckChain: inputs.pckChain, collateral: inputs.collateral,
                signingChains: [try? tcbInfo.get().signer, try? qeIdentity.get().signer].compactMap { $0 }),
            anchor: anchor, now: now, into: &checks)
    }

    /// Parses a signed PCS document and checks its signer chain (to `anchor`, valid at `now`, leaf named
    /// "Intel SGX TCB Signing") and its signature over the exact bytes of `member`.
    private static func verifySigned<Value: Decodable>(
        _ type: Value.Type, _ bytes: [UInt8], member: String, chainPEM: [UInt8], what: String, anchor: TrustAnchor, now: Date
    ) -> Result<Verified<Value>, LenientJSON.Failure> {
        let document: SignedCollateralDocument<Value>
        switch SignedCollateralDocument<Value>.parse(bytes, member: member, what: what) {
        case .failure(let failure): return .failure(failure)
        case .success(let parsed): document = parsed
        }
        let chain: CertificateChain
        switch CertificateChain.parse(pem: chainPEM) {
        case .failure(let failure): return .failure(.init(description: "\(what) issuer chain: \(failure.description)"))
        case .success(let parsed): chain = parsed
        }
        if let problem = chain.verify(to: anchor, now: now) {
            return .failure(.init(description: "\(what) issuer chain: \(problem)"))
        }
        guard chain.certificates.count >= 2, CertificateChain.commonName(chain.leaf) == tcbSigningName else {
            return .failure(.init(
                description: "\(what) issuer chain starts at \"\(CertificateChain.commonName(chain.leaf) ?? "?")\", not an \"\(tcbSigningName)\" certificate under the root"))
        }
        guard let key = P256.Signing.PublicKey(chain.leaf.publicKey), document.isSigned(by: key) else {
            return .failure(.init(
                description: "\(what) signature does not verify over the exact \"\(member)\" bytes with the \(tcbSigningName) key "
                    + "(the document was modified or signed by another key)"))
        }
        return .success(Verified(document: document, signer: chain))
    }

    /// nil when `issueDate <= now <= nextUpdate`, else why not.
    private static func freshness(issueDate: String, nextUpdate: String, now: Date, what: String) -> String? {
        guard let issued = PCSTime.parse(issueDate), let next = PCSTime.parse(nextUpdate) else {
            return "\(what) dates \(issueDate) / \(nextUpdate) are not RFC 3339 UTC"
        }
        if now < issued { return "\(what) was issued at \(issueDate), after the verification time \(now)" }
        if now > next {
            return "\(what) expired: next update was due \(nextUpdate), verification time is \(now) (fetch fresh collateral)"
        }
        return nil
    }

    /// MRSIGNERSEAM and SEAMATTRIBUTES against the TDX module entry the quote's module version selects.
    private static func checkTDXModule(_ quote: TDXQuote, tcbInfo: TCBInfo?, into checks: inout CheckList) -> Bool {
        let id = "dcap.tdx-module"
        guard let tcbInfo else {
            checks.fail(id, "not checked: the TCB info could not be trusted (dcap.collateral.tcb-info)")
            return false
        }
        let teeTCBSVN = quote.value(of: .teeTCBSVN)
        let mrSignerSeam = quote.value(of: .mrSignerSeam)
        let seamAttributes = quote.value(of: .seamAttributes)
        let expected: (name: String, mrsigner: String, attributes: String)
        if teeTCBSVN[1] != 0 {
            let moduleID = TCBEvaluation.moduleIdentityID(teeTCBSVN[1])
            guard let identity = tcbInfo.tdxModuleIdentities?.first(where: { $0.id.uppercased() == moduleID }) else {
                checks.fail(id, "TEE_TCB_SVN[1] = \(teeTCBSVN[1]) names TDX module \(moduleID), which the TCB info does not list")
                return false
            }
            expected = (moduleID, identity.mrsigner, identity.attributes)
        } else {
            guard let module = tcbInfo.tdxModule else {
                checks.fail(id, "the TCB info has no tdxModule entry")
                return false
            }
            expected = ("tdxModule", module.mrsigner, module.attributes)
        }
        guard HexFormatting.decode(expected.mrsigner) == mrSignerSeam else {
            checks.fail(id, "MRSIGNERSEAM \(HexFormatting.short(mrSignerSeam)) is not \(expected.name)'s mrsigner \(expected.mrsigner.lowercased())")
            return false
        }
        guard seamAttributes.allSatisfy({ $0 == 0 }), HexFormatting.decode(expected.attributes) == seamAttributes else {
            checks.fail(id, "SEAMATTRIBUTES \(HexFormatting.full(seamAttributes)) are not zero and equal to \(expected.name)'s \(expected.attributes)")
            return false
        }
        let signer = mrSignerSeam.allSatisfy { $0 == 0 } ? "zero (Intel's module)" : HexFormatting.short(mrSignerSeam)
        checks.pass(id, "MRSIGNERSEAM \(signer) and SEAMATTRIBUTES \(HexFormatting.full(seamAttributes)) match \(expected.name)")
        return true
    }

    /// The QE report against the QE identity: MRSIGNER, ISVPRODID, masked MISCSELECT and ATTRIBUTES.
    private static func checkQEIdentity(_ auth: TDXQuoteAuthData, identity: EnclaveIdentity?, into checks: inout CheckList) -> Bool {
        let id = "dcap.qe-identity"
        guard let identity else {
            checks.fail(id, "not checked: the QE identity could not be trusted (dcap.collateral.qe-identity)")
            return false
        }
        let report = auth.qeReport
        var problems: [String] = []
        if HexFormatting.decode(identity.mrsigner) != auth.qeMRSigner {
            problems.append("MRSIGNER \(HexFormatting.short(auth.qeMRSigner)) is not \(identity.mrsigner.lowercased())")
        }
        if Int(auth.qeISVProdID) != identity.isvprodid {
            problems.append("ISVPRODID \(auth.qeISVProdID) is not \(identity.isvprodid)")
        }
        // MISCSELECT is a little-endian u32 in the report and big-endian hex in the identity.
        let miscselect = UInt32(report[16]) | UInt32(report[17]) << 8 | UInt32(report[18]) << 16 | UInt32(report[19]) << 24
        if let expected = UInt32(identity.miscselect, radix: 16), let mask = UInt32(identity.miscselectMask, radix: 16) {
            if miscselect & mask != expected { problems.append("MISCSELECT \(String(miscselect, radix: 16)) & mask is not \(identity.miscselect)") }
        } else {
            problems.append("the identity's miscselect or its mask is not hex")
        }
        let attributes = Array(report[48..<64])
        if let expected = HexFormatting.decode(identity.attributes), let mask = HexFormatting.decode(identity.attributesMask),
            expected.count == 16, mask.count == 16
        {
            if zip(attributes, mask).map({ $0 & $1 }) != expected {
                problems.append("ATTRIBUTES \(HexFormatting.full(attributes)) & mask is not \(identity.attributes.lowercased())")
            }
        } else {
            problems.append("the identity's attributes or their mask are not 16 bytes of hex")
        }
        if problems.isEmpty {
            checks.pass(
                id, "QE report matches TD_QE: MRSIGNER \(HexFormatting.short(auth.qeMRSigner)), ISVPRODID \(auth.qeISVProdID), "
                    + "masked MISCSELECT and ATTRIBUTES")
            return true
        }
        checks.fail(id, "the quote was not produced by Intel's TD QE: " + problems.joined(separator: "; "))
        return false
    }

    private static func checkTCBStatus(
        _ inputs: Inputs, pck: Result<PCKExtension, PCKExtension.Failure>, tcbInfo: TCBInfo?, qeIdentity: EnclaveIdentity?,
        prerequisitesOK: Bool, options: VerificationOptions, into checks: inout CheckList
    ) {
        let id = "dcap.tcb-status"
        let pckExtension: PCKExtension
        switch pck {
        case .failure(let failure):
            checks.fail(id, failure.description)
            return
        case .success(let parsed):
            pckExtension = parsed
        }
        guard let tcbInfo, let qeIdentity else {
            checks.fail(id, "not evaluated: the collateral could not be trusted (see dcap.collateral.*)")
            return
        }
        guard inputs.pckChainVerified else {
            checks.fail(id, "not evaluated: the PCK certificate did not verify (dcap.pck-chain), so its TCB proves nothing")
            return
        }
        guard prerequisitesOK else {
            checks.fail(id, "not evaluated: the TDX module or the QE does not match the collateral (see dcap.tdx-module, dcap.qe-identity)")
            return
        }
        let platform = TCBEvaluation.Platform(
            pck: pckExtension, teeTCBSVN: inputs.quote.value(of: .teeTCBSVN), qeISVSVN: Int(inputs.quote.authData.qeISVSVN))
        let outcome = TCBEvaluation.evaluate(platform, tcbInfo: tcbInfo, qeIdentity: qeIdentity)
        guard let status = outcome.status else {
            checks.fail(id, "TCB not supported by the collateral: \(outcome.problem ?? "no level matches")")
            return
        }
        let advisories = outcome.advisoryIDs.isEmpty ? "" : "; advisories \(outcome.advisoryIDs.joined(separator: ", "))"
        let summary = "\(status.rawValue) (\(outcome.levels.joined(separator: ", "))\(advisories))"
        switch status {
        case .upToDate:
            checks.pass(id, summary)
        case .revoked:
            checks.fail(id, summary + ": a revoked TCB is never accepted")
        default:
            if options.acceptedTCBStatuses.contains(status) {
                checks.pass(id, summary + ": accepted by policy")
            } else {
                checks.fail(id, summary + ": not accepted (only UpToDate is, unless the policy allows \(status.rawValue))")
            }
        }
    }

    private static func names(_ chain: CertificateChain) -> String {
        chain.certificates.map { CertificateChain.commonName($0) ?? "?" }.joined(separator: " ← ")
    }
}
