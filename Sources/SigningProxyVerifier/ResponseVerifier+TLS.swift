import SigningContract
import SwiftASN1
import X509

extension ResponseVerifier {
    /// The TLS binding value of a server certificate (docs/API.md, `report_data`): SHA-256 of its
    /// SubjectPublicKeyInfo DER. Give it the DER of the leaf certificate your TLS connection presented,
    /// and pass the result as ``VerificationOptions/observedTLSFingerprint``.
    ///
    /// - Returns: 32 bytes, or nil when `der` is not an X.509 certificate.
    public static func tlsFingerprint(certificateDER der: [UInt8]) -> [UInt8]? {
        guard let certificate = try? Certificate(derEncoded: der) else { return nil }
        var serializer = DER.Serializer()
        guard (try? serializer.serialize(certificate.publicKey)) != nil else { return nil }
        return ReportData.tlsFingerprint(subjectPublicKeyInfoDER: serializer.serializedBytes)
    }
}
