import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `dcap.revocation`: the PCK certificate against its CA's CRL, and the intermediate CA and TCB
/// signing certificates against the Root CA CRL; both CRLs signed by their issuers and current.
enum RevocationVerification {
    struct Inputs {
        var pckChain: CertificateChain
        var collateral: QuoteCollateral
        /// Signer chains of the TCB info and QE identity that verified (their leaves must not be revoked).
        var signingChains: [CertificateChain]
    }

    static let id = "dcap.revocation"

    static func run(_ inputs: Inputs, anchor: TrustAnchor, now: Date, into checks: inout CheckList) {
        guard let pckCRLBytes = inputs.collateral.pckCRL, let rootCRLBytes = inputs.collateral.rootCACRL else {
            let missing = [inputs.collateral.pckCRL == nil ? "PCK CRL" : nil, inputs.collateral.rootCACRL == nil ? "Root CA CRL" : nil]
                .compactMap { $0 }.joined(separator: " and ")
            checks.skip(id, "the collateral has no \(missing): revocation of the PCK and CA certificates was not checked", mandatory: false)
            return
        }
        switch evaluate(inputs, pckCRLBytes: pckCRLBytes, rootCRLBytes: rootCRLBytes, anchor: anchor, now: now) {
        case .failure(let failure): checks.fail(id, failure.description)
        case .success(let detail): checks.pass(id, detail)
        }
    }

    private static func evaluate(
        _ inputs: Inputs, pckCRLBytes: [UInt8], rootCRLBytes: [UInt8], anchor: TrustAnchor, now: Date
    ) -> Result<String, LenientJSON.Failure> {
        let chain = inputs.pckChain
        guard chain.verify(to: anchor, now: now) == nil, chain.certificates.count >= 3, let root = chain.certificates.last else {
            return .failure(.init(description: "not checked: the PCK chain does not verify to the pinned \(anchor.name) (see dcap.pck-chain)"))
        }

        // Root CA CRL: issued and signed by the pinned root, current.
        let rootCRL: RevocationList
        switch RevocationList.parse(rootCRLBytes) {
        case .failure(let failure): return .failure(.init(description: "the Root CA CRL \(failure.description)"))
        case .success(let parsed): rootCRL = parsed
        }
        if let problem = check(rootCRL, name: "Root CA CRL", issuer: root, now: now) { return .failure(.init(description: problem)) }

        // PCK CRL: issued by the CA that issued the PCK certificate.
        var pckIssuer = chain.certificates[1]
        var issuerCertificates = Array(chain.certificates[1..<(chain.certificates.count - 1)])
        if let pem = inputs.collateral.pckCRLIssuerChain {
            switch CertificateChain.parse(pem: pem) {
            case .failure(let failure):
                return .failure(.init(description: "PCK CRL issuer chain: \(failure.description)"))
            case .success(let issuerChain):
                if let problem = issuerChain.verify(to: anchor, now: now) {
                    return .failure(.init(description: "PCK CRL issuer chain: \(problem)"))
                }
                pckIssuer = issuerChain.leaf
                issuerCertificates.append(contentsOf: issuerChain.certificates.dropLast())
            }
        }
        let pckCRL: RevocationList
        switch RevocationList.parse(pckCRLBytes) {
        case .failure(let failure): return .failure(.init(description: "the PCK CRL \(failure.description)"))
        case .success(let parsed): pckCRL = parsed
        }
        guard pckCRL.issuer == chain.leaf.issuer else {
            return .failure(.init(
                description: "the PCK CRL is issued by \(pckCRL.issuer), but the PCK certificate by \(chain.leaf.issuer) (wrong ca=platform|processor?)"))
        }
        if let problem = check(pckCRL, name: "PCK CRL", issuer: pckIssuer, now: now) { return .failure(.init(description: problem)) }

        // Serial numbers.
        if pckCRL.revokes(chain.leaf.serialNumber) {
            return .failure(.init(description: "the PCK certificate (serial \(chain.leaf.serialNumber)) is revoked by its CA's CRL"))
        }
        let rootIssued = issuerCertificates + inputs.signingChains.map(\.leaf)
        for certificate in rootIssued where rootCRL.revokes(certificate.serialNumber) {
            let name = CertificateChain.commonName(certificate) ?? "a CA certificate"
            return .failure(.init(description: "\"\(name)\" (serial \(certificate.serialNumber)) is revoked by the Root CA CRL"))
        }
        let checked = Set(rootIssued.map { CertificateChain.commonName($0) ?? "?" }).sorted().joined(separator: ", ")
        return .success(
            "PCK certificate not in the \(CertificateChain.commonName(pckIssuer) ?? "PCK CA") CRL (\(pckCRL.revokedSerials.count) revoked, "
                + "next update \(pckCRL.nextUpdate.map { "\($0)" } ?? "none")); \(checked) not in the Root CA CRL "
                + "(\(rootCRL.revokedSerials.count) revoked, next update \(rootCRL.nextUpdate.map { "\($0)" } ?? "none"))")
    }

    /// nil when `crl` names `issuer`, is signed by its key and is current at `now`; else why not.
    private static func check(_ crl: RevocationList, name: String, issuer: Certificate, now: Date) -> String? {
        guard crl.issuer == issuer.subject else {
            return "the \(name) is issued by \(crl.issuer), not by \(issuer.subject)"
        }
        guard crl.isSigned(by: issuer.publicKey) else {
            return "the \(name) signature does not verify with the key of \"\(CertificateChain.commonName(issuer) ?? "its issuer")\""
        }
        guard crl.isCurrent(at: now) else {
            let next = crl.nextUpdate.map { "\($0)" } ?? "none"
            return "the \(name) is not current at \(now) (this update \(crl.thisUpdate), next update \(next)): fetch fresh collateral"
        }
        return nil
    }
}
