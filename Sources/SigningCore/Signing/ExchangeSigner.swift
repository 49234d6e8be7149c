import Crypto
import SigningCrypto

/// Signs the text that binds a request's bytes to its response's bytes, with both keys (docs/API.md, Signatures).
package struct ExchangeSigner: Sendable {
    package let keys: SigningKeys
    package let format: SigningTextFormat
    package let modelName: String

    package init(keys: SigningKeys, format: SigningTextFormat, modelName: String) {
        self.keys = keys
        self.format = format
        self.modelName = modelName
    }

    /// The text both signatures cover (docs/API.md, Signatures).
    package func text(requestHash: String, responseHash: String) -> String {
        format.text(model: modelName, requestHash: requestHash, responseHash: responseHash)
    }

    /// The text `record`'s signatures cover, rebuilt from its hashes.
    package func text(of record: SignatureRecord) -> String {
        text(requestHash: record.requestHash.hex, responseHash: record.responseHash.hex)
    }

    /// A record with both signatures over the text of these two hashes.
    package func sign(requestHash: FixedBytes<32>, responseHash: FixedBytes<32>) throws -> SignatureRecord {
        var record = SignatureRecord(requestHash: requestHash, responseHash: responseHash)
        let message = Array(text(of: record).utf8)
        record.ecdsaSignature = try Self.ecdsa(message, keys: keys)
        record.ed25519Signature = try Self.ed25519(message, keys: keys)
        return record
    }

    /// `sign(requestHash:responseHash:)` for hashes in hex, as the proxy computes them.
    /// - Throws: `SigningCryptoError.invalidHex` unless each is 64 lowercase hex digits (anything else
    ///   would not come back unchanged in the rebuilt text).
    package func sign(requestHash: String, responseHash: String) throws -> SignatureRecord {
        guard let request = FixedBytes<32>(lowercaseHex: requestHash),
            let response = FixedBytes<32>(lowercaseHex: responseHash)
        else { throw SigningCryptoError.invalidHex }
        return try sign(requestHash: request, responseHash: response)
    }

    /// Fills in `algorithm`'s signature of `record`, exactly as `sign` computes it.
    ///
    /// Both algorithms are deterministic (RFC 6979 nonces for secp256k1; RFC 8032 ed25519, which
    /// swift-crypto's BoringSSL backend implements on Linux), so signing the same text twice gives the
    /// same bytes.
    package func sign(_ algorithm: SignatureAlgorithm, of record: inout SignatureRecord) throws {
        let message = Array(text(of: record).utf8)
        switch algorithm {
        case .ecdsa: record.ecdsaSignature = try Self.ecdsa(message, keys: keys)
        case .ed25519: record.ed25519Signature = try Self.ed25519(message, keys: keys)
        }
    }

    /// One algorithm's signature over `text`, in hex as `/v1/signature` serves it.
    package func signature(_ algorithm: SignatureAlgorithm, over text: String) throws -> String {
        let message = Array(text.utf8)
        switch algorithm {
        case .ecdsa: return "0x" + (try Self.ecdsa(message, keys: keys)).hex
        case .ed25519: return try Self.ed25519(message, keys: keys).hex
        }
    }

    private static func ecdsa(_ message: [UInt8], keys: SigningKeys) throws -> FixedBytes<65> {
        let signature = try keys.ecdsa.signRecoverable(digest: PersonalSign.digest(message: message))
        guard let bytes = FixedBytes<65>(signature.rsv(vOffset: 27)) else { throw SigningCryptoError.invalidLength }
        return bytes
    }

    private static func ed25519(_ message: [UInt8], keys: SigningKeys) throws -> FixedBytes<64> {
        guard let bytes = FixedBytes<64>(try keys.ed25519.signature(for: message)) else {
            throw SigningCryptoError.invalidLength
        }
        return bytes
    }
}
