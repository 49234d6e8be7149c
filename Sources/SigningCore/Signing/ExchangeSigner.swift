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

    /// Builds the signed text and both signatures.
    package func sign(requestHash: String, responseHash: String) throws -> SignatureRecord {
        let text = format.text(model: modelName, requestHash: requestHash, responseHash: responseHash)
        let message = Array(text.utf8)
        let ecdsa = try PersonalSign.sign(message: message, with: keys.ecdsa)
        let ed25519 = try keys.ed25519.signature(for: message)
        return SignatureRecord(text: text, ecdsaSignature: ecdsa, ed25519Signature: Hex.encode(ed25519))
    }
}
