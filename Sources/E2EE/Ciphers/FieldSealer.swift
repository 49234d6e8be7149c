import CSodium
import Crypto

/// Seals fields under one derived key and one ephemeral public key; each call draws a fresh AEAD nonce.
package struct FieldSealer: Sendable {
    package let suite: HybridSuite
    private let key: SymmetricKey
    /// The ephemeral public key every sealed field starts with.
    package let ephemeralPublicKey: [UInt8]

    init(suite: HybridSuite, key: SymmetricKey, ephemeralPublicKey: [UInt8]) {
        self.suite = suite
        self.key = key
        self.ephemeralPublicKey = ephemeralPublicKey
    }

    /// `ephemeral public key || nonce || ciphertext || tag`; `nonce` is for tests (fresh and random otherwise).
    package func seal(_ plaintext: some Collection<UInt8>, aad: [UInt8] = [], nonce: [UInt8]? = nil) throws(CipherFailure) -> [UInt8] {
        let nonceLength = self.suite.cipher.nonceLength
        let nonce = nonce ?? Sodium.randomBytes(nonceLength)
        guard nonce.count == nonceLength else { throw .malformed }
        var output = self.ephemeralPublicKey
        output.reserveCapacity(self.ephemeralPublicKey.count + nonceLength + plaintext.count + 16)
        output.append(contentsOf: nonce)
        switch self.suite.cipher {
        case .aes256GCM:
            guard let gcmNonce = try? AES.GCM.Nonce(data: nonce),
                let box = try? AES.GCM.seal(Array(plaintext), using: self.key, nonce: gcmNonce, authenticating: aad)
            else { throw .malformed }
            output.append(contentsOf: box.ciphertext)
            output.append(contentsOf: box.tag)
        case .xChaCha20Poly1305:
            Sodium.ensureInitialised()
            let message = Array(plaintext)
            var sealed = [UInt8](repeating: 0, count: message.count + 16)
            var sealedLength: UInt64 = 0
            let status = self.key.withUnsafeBytes { keyBytes in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    &sealed, &sealedLength, message, UInt64(message.count), aad, UInt64(aad.count), nil, nonce,
                    keyBytes.bindMemory(to: UInt8.self).baseAddress!
                )
            }
            guard status == 0 else { throw .malformed }
            output.append(contentsOf: sealed)
        }
        return output
    }
}
