import Foundation
import TDX
import Testing

@testable import SigningProxyVerifier

/// The real Intel collateral in `Fixtures/intel-collateral` (see its NOTICE.md) and the quote it covers.
enum CollateralFixtures {
    /// `Fixtures/intel-collateral/b0c06f000000-2026-10` in this package.
    static let directory = Fixtures.url("intel-collateral/b0c06f000000-2026-10")

    /// 2026-10-15T00:00:00Z: the collateral, its CRLs and attestation.bin's PCK chain are all current.
    static let now = Date(timeIntervalSince1970: 1_792_022_400)

    static func file(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// All six files as `QuoteCollateral`.
    static func collateral() throws -> QuoteCollateral {
        QuoteCollateral(
            tcbInfo: try file("tcb_info.json"), tcbInfoIssuerChain: try file("tcb_info_issuer_chain.pem"),
            qeIdentity: try file("qe_identity.json"), qeIdentityIssuerChain: try file("qe_identity_issuer_chain.pem"),
            pckCRL: try file("pck_crl.der"), rootCACRL: try file("root_ca_crl.der"))
    }

    /// The quote inside `attestation.bin` (FMSPC b0c06f000000), as hex.
    static func attestationBinQuote() throws -> [UInt8] {
        let blob = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin"))
        return Array(Fixtures.hex(blob.quoteBytes).utf8)
    }

    /// "Intel SGX PCK Platform CA" and the root, as PEM, from the same quote.
    static func platformCAChain() throws -> [UInt8] {
        let blob = try DstackAttestationBlob(bytes: Fixtures.bytes("dstack/attestation.bin"))
        let text = String(decoding: blob.quote.authData.pckChainPEM, as: UTF8.self)
        let start = try #require(text.range(of: "-----END CERTIFICATE-----")).upperBound
        return Array(text[start...].utf8)
    }
}
