import SigningCrypto

/// One entry of the ACI workload keyset's `e2ee_public_keys`, with its secret.
package struct ACIKey: Sendable {
    /// The two ACI v2 suites, named by their `algo` strings.
    package enum Suite: String, Hashable, Sendable {
        case x25519 = "x25519-aes-256-gcm-hkdf-sha256"
        case secp256k1 = "secp256k1-aes-256-gcm-hkdf-sha256"

        package var cipher: HybridSuite { self == .x25519 ? .aciX25519 : .aciSecp256k1 }

        /// A key as ACI accepts it: hex of either case with an optional `0x`; X25519 32 bytes; secp256k1 64 bytes
        /// or 65 with `04`, on the curve. Its canonical form is lowercase hex of 32 bytes, or of the 65-byte
        /// uncompressed point.
        /// `checked`: refuse an X25519 key of small order (a client's key; the service's own are known good).
        func parse(_ text: String, checked: Bool = true) -> (key: E2EEPublicKey, canonical: String)? {
            guard let bytes = FieldHex.decode(text.trimmed, allowPrefix: true) else { return nil }
            let key: E2EEPublicKey
            switch self {
            case .x25519:
                guard let parsed = try? (checked ? E2EEPublicKey.x25519Checked(raw: bytes) : .x25519(raw: bytes)) else {
                    return nil
                }
                key = parsed
            case .secp256k1: guard let parsed = try? E2EEPublicKey.secp256k1(raw: bytes) else { return nil }; key = parsed
            }
            return (key, FieldHex.encode(key.fieldEncoding))
        }
    }

    package let keyID: String
    package let suite: Suite
    let secret: E2EESecretKey
    /// Lowercase hex: 32 bytes (x25519) or the 65-byte uncompressed point (secp256k1).
    package let publicKeyHex: String

    /// An X25519 key from its 32-byte secret.
    package init(keyID: String, x25519Secret: [UInt8]) throws(CipherFailure) {
        let secret = try E2EESecretKey.x25519(raw: x25519Secret)
        self.init(keyID: keyID, suite: .x25519, secret: secret)
    }

    /// A secp256k1 key (e.g. the TEE-derived signing key).
    package init(keyID: String, secp256k1: Secp256k1PrivateKey) {
        self.init(keyID: keyID, suite: .secp256k1, secret: .secp256k1(secp256k1))
    }

    /// The same key under another id (an id made from the public key itself).
    package func named(_ keyID: String) -> ACIKey {
        ACIKey(keyID: keyID, suite: self.suite, secret: self.secret)
    }

    private init(keyID: String, suite: Suite, secret: E2EESecretKey) {
        self.keyID = keyID
        self.suite = suite
        self.secret = secret
        self.publicKeyHex = FieldHex.encode(secret.publicKey.fieldEncoding)
    }
}
