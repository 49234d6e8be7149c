import Crypto
import Foundation
import SigningCrypto
import X509

@testable import SigningProxyVerifier

/// `collateral-crl`: `RevocationList.parse`, the verifier's CRL reader (DER, PEM or hex text of the DER).
///
/// Checks on every list it accepts:
/// - DER input reads the same as its hex text and as a PEM `X509 CRL` block; the signed bytes
///   (`tbsCertList`) are a run of the input.
/// - Revoked serials are stored normalised and each is reported revoked, with or without leading zeros.
/// - Freshness follows `thisUpdate`/`nextUpdate`; the signature check runs (with an unrelated key it must
///   fail).
enum RevocationListTarget {
    static let target = FuzzTarget(
        name: "collateral-crl",
        summary: "RevocationList: DER = hex = PEM, tbsCertList a run of the input, serials, freshness"
    ) { run($0) }

    /// Not Intel's key: no CRL can verify under it.
    private static let unrelatedKey = Certificate.PublicKey(P256.Signing.PrivateKey().publicKey)

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        guard case .success(let list) = RevocationList.parse(bytes) else { return }

        if bytes.first == 0x30 {
            Invariant.require(contains(bytes, list.signedBytes), "tbsCertList is not a run of the DER input")
            let hex = Array(Hex.encode(bytes).uppercased().utf8)
            Invariant.require(same(RevocationList.parse(hex), list), "the hex text of the DER reads differently")
            let pem = "-----BEGIN X509 CRL-----\n" + Data(bytes).base64EncodedString(options: .lineLength64Characters)
                + "\n-----END X509 CRL-----\n"
            Invariant.require(same(RevocationList.parse(Array(pem.utf8)), list), "the PEM form of the DER reads differently")
        }

        for serial in list.revokedSerials {
            Invariant.require(serial.first != 0, "a stored serial keeps a leading zero")
            Invariant.require(RevocationList.normalized([0, 0] + serial) == serial, "normalising is not idempotent")
            let number = Certificate.SerialNumber(bytes: serial.isEmpty ? [0] : serial)
            Invariant.require(list.revokes(number), "a listed serial is not reported revoked")
        }

        let before = list.thisUpdate.addingTimeInterval(-1)
        Invariant.require(!list.isCurrent(at: before), "current before thisUpdate")
        if let next = list.nextUpdate {
            Invariant.require(!list.isCurrent(at: next.addingTimeInterval(1)), "current after nextUpdate")
            if list.thisUpdate <= next {
                Invariant.require(list.isCurrent(at: list.thisUpdate), "not current at thisUpdate")
            }
        }
        Invariant.require(!list.isSigned(by: unrelatedKey), "the CRL verifies under an unrelated key")
    }

    private static func same(_ result: Result<RevocationList, RevocationList.Failure>, _ list: RevocationList) -> Bool {
        guard case .success(let other) = result else { return false }
        return other.issuer == list.issuer && other.thisUpdate == list.thisUpdate && other.nextUpdate == list.nextUpdate
            && other.revokedSerials == list.revokedSerials && other.signedBytes == list.signedBytes
            && other.signature == list.signature && other.signatureAlgorithm == list.signatureAlgorithm
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return needle.isEmpty }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
