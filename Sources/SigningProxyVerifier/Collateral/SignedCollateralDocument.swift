import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A signed PCS answer `{"<member>":{…},"signature":"<hex r‖s>"}`: the signed value decoded, its exact
/// bytes, and the signature over them.
struct SignedCollateralDocument<Value: Decodable> {
    /// The decoded signed value.
    var value: Value
    /// The bytes of the signed value exactly as they appear in the answer.
    var signedBytes: [UInt8]
    /// ECDSA P-256 signature `r‖s` (64 bytes).
    var signature: [UInt8]

    private struct Envelope: Decodable {
        var signature: String
    }

    /// Parses `bytes`, taking the signed bytes as the raw substring of `member`'s value.
    static func parse(_ bytes: [UInt8], member: String, what: String) -> Result<Self, LenientJSON.Failure> {
        let envelope: Envelope
        switch LenientJSON.decode(Envelope.self, from: bytes, what: what) {
        case .failure(let failure): return .failure(failure)
        case .success(let decoded): envelope = decoded
        }
        guard let range = RawJSON.memberValueRange(member, in: bytes) else {
            return .failure(.init(description: "\(what) has no single top-level \"\(member)\" member"))
        }
        let signedBytes = Array(bytes[range])
        let value: Value
        switch LenientJSON.decode(Value.self, from: signedBytes, what: "\(what) \"\(member)\"") {
        case .failure(let failure): return .failure(failure)
        case .success(let decoded): value = decoded
        }
        guard let signature = HexFormatting.decode(envelope.signature), signature.count == 64 else {
            return .failure(.init(description: "\(what) signature is not 64 bytes of hex (r‖s)"))
        }
        return .success(Self(value: value, signedBytes: signedBytes, signature: signature))
    }

    /// Whether the signature verifies over ``signedBytes`` (ECDSA P-256 with SHA-256) with `key`.
    func isSigned(by key: P256.Signing.PublicKey) -> Bool {
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(signature, for: Data(signedBytes))
    }
}
