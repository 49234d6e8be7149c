/// Everything `/v1/signature/{chat_id}` returns for one completion, for both algorithms (API.md §7).
package struct SignatureRecord: Sendable, Equatable {
    /// The signed text (API.md §4.2).
    package var text: String
    /// `0x` + 130 hex: EIP-191 signature with v = 27/28.
    package var ecdsaSignature: String
    /// 128 hex: ed25519 signature over the UTF-8 text.
    package var ed25519Signature: String

    package init(text: String, ecdsaSignature: String, ed25519Signature: String) {
        self.text = text
        self.ecdsaSignature = ecdsaSignature
        self.ed25519Signature = ed25519Signature
    }
}
