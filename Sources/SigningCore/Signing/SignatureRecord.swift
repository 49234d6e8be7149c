/// Everything `/v1/signature/{chat_id}` returns for one completion, for both algorithms (docs/API.md, Signatures),
/// as bytes.
///
/// The store keeps one of these per chat id, so it holds raw bytes inline (195 bytes, no heap
/// allocation) rather than hex strings: the signed text is rebuilt from the two hashes by
/// `ExchangeSigner.text(of:)`, and each signature's hex by the subscript, when it is looked up.
///
/// In lazy signing mode a record starts with the hashes only; each signature is filled in when first
/// asked for. Records live in process memory only, so an unsigned one never leaves it.
package struct SignatureRecord: Sendable, Equatable {
    /// SHA-256 of the request bytes.
    package var requestHash: FixedBytes<32>
    /// SHA-256 of the response bytes.
    package var responseHash: FixedBytes<32>
    /// EIP-191 signature `r‖s‖v` with v = 27/28; `nil` until computed.
    package var ecdsaSignature: FixedBytes<65>?
    /// Ed25519 signature over the UTF-8 text; `nil` until computed.
    package var ed25519Signature: FixedBytes<64>?

    package init(
        requestHash: FixedBytes<32>,
        responseHash: FixedBytes<32>,
        ecdsaSignature: FixedBytes<65>? = nil,
        ed25519Signature: FixedBytes<64>? = nil
    ) {
        self.requestHash = requestHash
        self.responseHash = responseHash
        self.ecdsaSignature = ecdsaSignature
        self.ed25519Signature = ed25519Signature
    }

    /// The signature for `algorithm` as served (`0x` + 130 hex for ecdsa, 128 hex for ed25519), or
    /// `nil` if it has not been computed yet.
    package subscript(algorithm: SignatureAlgorithm) -> String? {
        switch algorithm {
        case .ecdsa: ecdsaSignature.map { "0x" + $0.hex }
        case .ed25519: ed25519Signature?.hex
        }
    }

    /// Whether `algorithm`'s signature is present.
    package func hasSignature(_ algorithm: SignatureAlgorithm) -> Bool {
        switch algorithm {
        case .ecdsa: ecdsaSignature != nil
        case .ed25519: ed25519Signature != nil
        }
    }

    /// Whether both signatures are present.
    package var isComplete: Bool { ecdsaSignature != nil && ed25519Signature != nil }

    /// Whether `other` covers the same exchange, so the same signed text for one signer.
    package func coversSameExchange(as other: SignatureRecord) -> Bool {
        requestHash == other.requestHash && responseHash == other.responseHash
    }

    /// Takes `algorithm`'s signature from `other`, which must cover the same exchange.
    package mutating func copySignature(_ algorithm: SignatureAlgorithm, from other: SignatureRecord) {
        precondition(coversSameExchange(as: other), "a signature may only move between records of one exchange")
        switch algorithm {
        case .ecdsa: ecdsaSignature = other.ecdsaSignature
        case .ed25519: ed25519Signature = other.ed25519Signature
        }
    }
}
