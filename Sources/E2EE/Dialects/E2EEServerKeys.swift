import SigningCrypto

/// The server's keys as the DV and NEAR suites use them: the secp256k1 signing key (also the ECDH key), and the
/// X25519 form of the ed25519 signing key.
package struct E2EEServerKeys: Sendable {
    package let ecdsa: Secp256k1PrivateKey?
    /// `clamp(SHA-512(seed)[0..<32])`, the X25519 secret of the ed25519 key.
    let x25519Secret: [UInt8]?
    let x25519: E2EESecretKey?
    /// The raw 32-byte ed25519 public key (what DV compares `X-Model-Pub-Key` with).
    package let ed25519PublicKey: [UInt8]?

    /// - Parameters:
    ///   - ecdsa: the TEE-derived secp256k1 signing key.
    ///   - ed25519Seed: the 32-byte ed25519 signing seed.
    package init(ecdsa: Secp256k1PrivateKey?, ed25519Seed: [UInt8]?) throws(CipherFailure) {
        self.ecdsa = ecdsa
        if let ed25519Seed {
            let secret = try Ed25519Montgomery.x25519SecretKey(ed25519Seed: ed25519Seed)
            self.x25519Secret = secret
            self.x25519 = try E2EESecretKey.x25519(raw: secret)
            self.ed25519PublicKey = try Ed25519Montgomery.ed25519PublicKey(seed: ed25519Seed)
        } else {
            self.x25519Secret = nil
            self.x25519 = nil
            self.ed25519PublicKey = nil
        }
    }

    /// Whether the keys for `algo` exist.
    func supports(_ algo: SigningAlgo) -> Bool {
        algo == .ecdsa ? self.ecdsa != nil : self.x25519 != nil
    }
}
