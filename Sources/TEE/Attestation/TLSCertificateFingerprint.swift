import SigningContract
import SwiftASN1
import X509

/// The TLS binding value (docs/API.md, `report_data`): SHA-256 of the certificate's SubjectPublicKeyInfo DER.
package enum TLSCertificateFingerprint {
    /// SHA-256 (raw 32 bytes) of the SPKI of the first certificate in `pemEncoded` (a leaf-first chain is fine).
    ///
    /// - Throws: the PEM/DER parsing error of swift-asn1 or swift-certificates when no certificate parses.
    package static func sha256OfSPKI(pemEncoded: String) throws -> [UInt8] {
        let documents = try PEMDocument.parseMultiple(pemString: pemEncoded)
        guard let first = documents.first(where: { $0.discriminator == "CERTIFICATE" }) else {
            throw ASN1Error.invalidPEMDocument(reason: "no CERTIFICATE block")
        }
        let certificate = try Certificate(derEncoded: first.derBytes)
        var serializer = DER.Serializer()
        try serializer.serialize(certificate.publicKey)
        return ReportData.tlsFingerprint(subjectPublicKeyInfoDER: serializer.serializedBytes)
    }
}
