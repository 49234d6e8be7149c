import Crypto
import SwiftASN1
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A PEM certificate chain, leaf first, verified link by link up to a pinned root.
struct CertificateChain: Sendable {
    /// Certificates, leaf first.
    var certificates: [Certificate]
    /// DER encodings, same order.
    var derEncodings: [[UInt8]]

    /// Parses every `CERTIFICATE` block of `pem` (trailing NULs tolerated).
    static func parse(pem: [UInt8]) -> Result<CertificateChain, LenientJSON.Failure> {
        let text = String(decoding: pem.prefix { $0 != 0 }, as: UTF8.self)
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: text)
        } catch {
            return .failure(.init(description: "certificate chain is not valid PEM"))
        }
        var certificates: [Certificate] = []
        var ders: [[UInt8]] = []
        for (index, document) in documents.enumerated() where document.discriminator == "CERTIFICATE" {
            do {
                certificates.append(try Certificate(derEncoded: document.derBytes))
                ders.append(document.derBytes)
            } catch {
                return .failure(.init(description: "certificate \(index) of the chain is not a valid X.509 certificate"))
            }
        }
        guard !certificates.isEmpty else {
            return .failure(.init(description: "certificate chain holds no certificate"))
        }
        return .success(CertificateChain(certificates: certificates, derEncodings: ders))
    }

    var leaf: Certificate { certificates[0] }

    /// Checks every link (signature, issuer name, CA flag of the issuer), validity at `now`, and that
    /// the last certificate is `anchor` and signs itself.
    /// - Returns: nil when the chain verifies, else the first reason it does not.
    func verify(to anchor: TrustAnchor, now: Date) -> String? {
        for (index, certificate) in certificates.enumerated() {
            let name = Self.commonName(certificate) ?? "certificate \(index)"
            guard certificate.notValidBefore <= now, now <= certificate.notValidAfter else {
                return "\"\(name)\" is not valid at \(now) (valid \(certificate.notValidBefore) to \(certificate.notValidAfter))"
            }
            let isLast = index == certificates.count - 1
            let issuer = isLast ? certificate : certificates[index + 1]
            guard certificate.issuer == issuer.subject else {
                return "\"\(name)\" was not issued by the next certificate in the chain"
            }
            guard issuer.publicKey.isValidSignature(certificate.signature, for: certificate) else {
                return isLast
                    ? "root \"\(name)\" does not verify its own signature"
                    : "signature of \"\(name)\" does not verify under \"\(Self.commonName(issuer) ?? "its issuer")\""
            }
            if !isLast || certificates.count == 1 {
                // The issuer must be a CA; the single-certificate case is only meaningful for the root itself.
                if !Self.isCA(issuer) {
                    return "issuer of \"\(name)\" is not marked as a CA"
                }
            }
        }
        guard let root = certificates.last, let rootDER = derEncodings.last else { return "empty chain" }
        guard anchor.matches(der: rootDER, key: root.publicKey) else {
            return "the chain ends at \"\(Self.commonName(root) ?? "an unknown certificate")\" with DER SHA-256 "
                + "\(HexFormatting.short(Array(SHA256.hash(data: rootDER)))), which is not the pinned \(anchor.name)"
        }
        return nil
    }

    static func commonName(_ certificate: Certificate) -> String? {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return "\(attribute.value)"
            }
        }
        return nil
    }

    private static func isCA(_ certificate: Certificate) -> Bool {
        guard let constraints = try? certificate.extensions.basicConstraints else { return false }
        if case .isCertificateAuthority = constraints { return true }
        return false
    }
}
