import CSodium
import Crypto

/// An ECIES-style field cipher: ECDH between an ephemeral key and the recipient's static key, HKDF-SHA256
/// (no salt, 32 bytes) with a suite-specific `info`, then an AEAD. A field is
/// `ephemeral public key || AEAD nonce || ciphertext || tag` (docs/E2EE.md, "Ciphers").
package struct HybridSuite: Hashable, Sendable {
    package enum Curve: Hashable, Sendable {
        case secp256k1
        case x25519

        /// An ephemeral key's size in a field: uncompressed SEC1, or raw.
        package var publicKeyLength: Int { self == .secp256k1 ? 65 : 32 }
    }

    package enum Cipher: Hashable, Sendable {
        case aes256GCM
        /// The IETF construction (libsodium `crypto_aead_xchacha20poly1305_ietf_*`), 24-byte nonce.
        case xChaCha20Poly1305

        package var nonceLength: Int { self == .aes256GCM ? 12 : 24 }
    }

    package let curve: Curve
    package let cipher: Cipher
    package let info: [UInt8]

    package init(curve: Curve, cipher: Cipher, info: String) {
        self.curve = curve
        self.cipher = cipher
        self.info = Array(info.utf8)
    }

    /// DV v1/v2 and NEAR v1/v2 ecdsa: secp256k1, `ecdsa_encryption`, AES-256-GCM.
    package static let legacyECDSA = Self(curve: .secp256k1, cipher: .aes256GCM, info: "ecdsa_encryption")
    /// DV v1/v2 ed25519: X25519, `ed25519_encryption`, AES-256-GCM.
    package static let dvEd25519 = Self(curve: .x25519, cipher: .aes256GCM, info: "ed25519_encryption")
    /// NEAR v2 ed25519: X25519, `ed25519_encryption`, XChaCha20-Poly1305.
    package static let nearEd25519V2 = Self(curve: .x25519, cipher: .xChaCha20Poly1305, info: "ed25519_encryption")
    /// ACI v2 `x25519-aes-256-gcm-hkdf-sha256`.
    package static let aciX25519 = Self(curve: .x25519, cipher: .aes256GCM, info: "aci.e2ee.v2.x25519")
    /// ACI v2 `secp256k1-aes-256-gcm-hkdf-sha256`.
    package static let aciSecp256k1 = Self(curve: .secp256k1, cipher: .aes256GCM, info: "aci.e2ee.v2.secp256k1")

    /// Bytes a field adds to its plaintext.
    package var overhead: Int { self.curve.publicKeyLength + self.cipher.nonceLength + 16 }

    /// Opens a field sealed to `recipient`.
    package func open(_ field: [UInt8], recipient: E2EESecretKey, aad: [UInt8] = []) throws(CipherFailure) -> [UInt8] {
        guard recipient.curve == self.curve else { throw .invalidSecretKey }
        guard field.count >= self.overhead else { throw .malformed }
        let keyLength = self.curve.publicKeyLength
        let ephemeralBytes = Array(field[0..<keyLength])
        let ephemeral: E2EEPublicKey
        do {
            ephemeral = self.curve == .secp256k1 ? try .secp256k1(raw: ephemeralBytes) : try .x25519(raw: ephemeralBytes)
        } catch {
            throw .malformed
        }
        let shared: [UInt8]
        do { shared = try recipient.sharedSecret(with: ephemeral) } catch { throw .malformed }
        let key = self.derive(shared)
        let nonceEnd = keyLength + self.cipher.nonceLength
        return try self.openAEAD(
            key: key, nonce: field[keyLength..<nonceEnd], sealed: field[nonceEnd...], aad: aad
        )
    }

    /// Seals one field to `recipient` with a fresh ephemeral key and nonce (tests inject both).
    package func seal(
        _ plaintext: some Collection<UInt8>,
        to recipient: E2EEPublicKey,
        aad: [UInt8] = [],
        ephemeral: E2EESecretKey? = nil,
        nonce: [UInt8]? = nil
    ) throws(CipherFailure) -> [UInt8] {
        try self.sealer(to: recipient, ephemeral: ephemeral).seal(plaintext, aad: aad, nonce: nonce)
    }

    /// A sealer bound to one ephemeral key: DV answers reuse it for every field of one response.
    package func sealer(to recipient: E2EEPublicKey, ephemeral: E2EESecretKey? = nil) throws(CipherFailure) -> FieldSealer {
        let ephemeral = ephemeral ?? .random(self.curve)
        guard ephemeral.curve == self.curve else { throw .invalidSecretKey }
        let shared = try ephemeral.sharedSecret(with: recipient)
        return FieldSealer(suite: self, key: self.derive(shared), ephemeralPublicKey: ephemeral.publicKey.fieldEncoding)
    }

    func derive(_ shared: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: shared), salt: [UInt8](), info: self.info, outputByteCount: 32
        )
    }

    private func openAEAD(
        key: SymmetricKey, nonce: ArraySlice<UInt8>, sealed: ArraySlice<UInt8>, aad: [UInt8]
    ) throws(CipherFailure) -> [UInt8] {
        switch self.cipher {
        case .aes256GCM:
            let tagStart = sealed.endIndex - 16
            guard let gcmNonce = try? AES.GCM.Nonce(data: nonce),
                let box = try? AES.GCM.SealedBox(nonce: gcmNonce, ciphertext: sealed[..<tagStart], tag: sealed[tagStart...]),
                let plaintext = try? AES.GCM.open(box, using: key, authenticating: aad)
            else { throw .authentication }
            return Array(plaintext)
        case .xChaCha20Poly1305:
            Sodium.ensureInitialised()
            let count = sealed.count - 16
            var plaintextLength: UInt64 = 0
            var plaintext = [UInt8](repeating: 0, count: count)
            let status = key.withUnsafeBytes { keyBytes in
                nonce.withUnsafeBufferPointer { nonceBytes in
                    sealed.withUnsafeBufferPointer { sealedBytes in
                        plaintext.withUnsafeMutableBufferPointer { output in
                            crypto_aead_xchacha20poly1305_ietf_decrypt(
                                output.baseAddress, &plaintextLength, nil,
                                sealedBytes.baseAddress!, UInt64(sealedBytes.count),
                                aad, UInt64(aad.count),
                                nonceBytes.baseAddress!, keyBytes.bindMemory(to: UInt8.self).baseAddress!
                            )
                        }
                    }
                }
            }
            guard status == 0 else { throw .authentication }
            return plaintext
        }
    }
}
