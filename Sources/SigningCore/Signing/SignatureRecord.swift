/// Everything `/v1/signature/{chat_id}` returns for one completion, for both algorithms (API.md §7).
///
/// In lazy signing mode a record starts with the text only; each signature is filled in when first
/// asked for. Records live in process memory only, so an unsigned one never leaves it.
package struct SignatureRecord: Sendable, Equatable {
    /// The signed text (API.md §4.2).
    package var text: String
    /// `0x` + 130 hex: EIP-191 signature with v = 27/28; `nil` until computed.
    package var ecdsaSignature: String?
    /// 128 hex: ed25519 signature over the UTF-8 text; `nil` until computed.
    package var ed25519Signature: String?

    package init(text: String, ecdsaSignature: String? = nil, ed25519Signature: String? = nil) {
        self.text = text
        self.ecdsaSignature = ecdsaSignature
        self.ed25519Signature = ed25519Signature
    }

    /// The signature for `algorithm`, or `nil` if it has not been computed yet.
    package subscript(algorithm: SignatureAlgorithm) -> String? {
        get {
            switch algorithm {
            case .ecdsa: ecdsaSignature
            case .ed25519: ed25519Signature
            }
        }
        set {
            switch algorithm {
            case .ecdsa: ecdsaSignature = newValue
            case .ed25519: ed25519Signature = newValue
            }
        }
    }

    /// Whether both signatures are present.
    package var isComplete: Bool { ecdsaSignature != nil && ed25519Signature != nil }
}
