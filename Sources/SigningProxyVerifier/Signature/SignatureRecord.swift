import SigningContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The answer of `GET /v1/signature/{chat_id}` (docs/API.md, Signatures).
struct SignatureRecord: Decodable, Sendable {
    var text: String
    var signature: String
    var signingAddress: String
    var signingAlgo: String?

    private enum CodingKeys: String, CodingKey {
        case text
        case signature
        case signingAddress = "signing_address"
        case signingAlgo = "signing_algo"
    }

    /// Parses the record; the error text names the missing or mistyped field.
    static func parse(_ bytes: some Collection<UInt8>) -> Result<SignatureRecord, LenientJSON.Failure> {
        LenientJSON.decode(SignatureRecord.self, from: bytes, what: "signature record")
    }

    /// `ecdsa` or `ed25519`: the declared algorithm, else inferred from the signature's shape.
    var algorithm: SignatureAlgorithm? {
        if let signingAlgo { return SignatureAlgorithm(rawValue: signingAlgo.lowercased()) }
        return signature.hasPrefix("0x") || signature.hasPrefix("0X") ? .ecdsa : .ed25519
    }
}
