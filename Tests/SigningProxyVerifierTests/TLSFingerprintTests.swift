import Foundation
import Testing

@testable import SigningProxyVerifier

@Suite("ResponseVerifier.tlsFingerprint: the value a TLS-bound report binds")
struct TLSFingerprintTests {
    @Test("SHA-256 of the SPKI DER of the dstack fixture's CA certificate, as the proxy's own tests pin it; garbage is nil")
    func fixtureCertificate() throws {
        let pem = try #require(try Fixtures.json("dstack/appkeys.json")["ca_cert"] as? String)
        let base64 = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let der = try #require(Data(base64Encoded: base64))
        let fingerprint = try #require(ResponseVerifier.tlsFingerprint(certificateDER: Array(der)))
        #expect(Fixtures.hex(fingerprint) == "7af8c9f9564fbc3c472767a38de21a51830c7047175cf8ec88bc9b7febc0c8a8")
        #expect(ResponseVerifier.tlsFingerprint(certificateDER: Array(der.dropLast())) == nil)
        #expect(ResponseVerifier.tlsFingerprint(certificateDER: []) == nil)
    }
}
