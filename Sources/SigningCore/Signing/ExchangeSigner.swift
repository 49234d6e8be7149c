import Crypto
import SigningCrypto

/// Signs the text that binds a request's bytes to its response's bytes, with both keys (API.md §5).
package struct ExchangeSigner: Sendable {
    package let keys: SigningKeys
    package let format: SigningTextFormat
    package let modelName: String

    package init(keys: SigningKeys, format: SigningTextFormat, modelName: String) {
        self.keys = keys
        self.format = format
        self.modelName = modelName
    }

    /// The text both signatures cover (API.md §4.2).
    package func text(requestHash: String, responseHash: String) -> String {
        format.text(model: modelName, requestHash: requestHash, responseHash: responseHash)
    }

    /// Builds the signed text and both signatures.
    package func sign(requestHash: String, responseHash: String) throws -> SignatureRecord {
        let text = text(requestHash: requestHash, responseHash: responseHash)
        let message = Array(text.utf8)
        return SignatureRecord(
            text: text,
            ecdsaSignature: try Self.ecdsa(message, keys: keys),
            ed25519Signature: try Self.ed25519(message, keys: keys)
        )
    }

    /// One algorithm's signature over `text`, exactly as `sign` computes it.
    ///
    /// Both algorithms are deterministic (RFC 6979 nonces for secp256k1; RFC 8032 ed25519, which
    /// swift-crypto's BoringSSL backend implements on Linux), so signing the same text twice gives the
    /// same bytes.
    package func signature(_ algorithm: SignatureAlgorithm, over text: String) throws -> String {
        let message = Array(text.utf8)
        switch algorithm {
        case .ecdsa: return try Self.ecdsa(message, keys: keys)
        case .ed25519: return try Self.ed25519(message, keys: keys)
        }
    }

    private static func ecdsa(_ message: [UInt8], keys: SigningKeys) throws -> String {
        try PersonalSign.sign(message: message, with: keys.ecdsa)
    }

    private static func ed25519(_ message: [UInt8], keys: SigningKeys) throws -> String {
        Hex.encode(try keys.ed25519.signature(for: message))
    }
}
