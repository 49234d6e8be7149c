import CSodium

/// NEAR v1's ed25519 cipher: a NaCl box from a fresh X25519 key; a field is
/// `ephemeral public key (32) || nonce (24) || MAC (16) || ciphertext`.
///
/// NEAR's proxy seals with the XChaCha20 box and opens either; its published clients (PyNaCl `Box`,
/// tweetnacl `box`) seal and open only the classic XSalsa20 box, so both are here and the caller picks.
package enum NaClBox {
    package enum Variant: Hashable, Sendable {
        /// `crypto_box_curve25519xsalsa20poly1305` (`crypto_box_easy`), what PyNaCl and tweetnacl speak.
        case xSalsa20Poly1305
        /// `crypto_box_curve25519xchacha20poly1305`, what NEAR's proxy sends since it switched.
        case xChaCha20Poly1305
    }

    package static let overhead = 32 + 24 + 16

    /// Opens a field sealed to the X25519 `secret`, by either box (NEAR's proxy tries XChaCha20, then XSalsa20).
    ///
    /// One X25519 for both tries: each box's key is its own hash of the same shared secret (HChaCha20 or
    /// HSalsa20 with a zero nonce, as libsodium's `beforenm` computes it).
    package static func open(_ field: [UInt8], secret: [UInt8]) throws(CipherFailure) -> [UInt8] {
        guard secret.count == 32 else { throw .invalidSecretKey }
        guard field.count >= Self.overhead else { throw .malformed }
        Sodium.ensureInitialised()
        var shared = [UInt8](repeating: 0, count: 32)
        defer { shared.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, 32) } }
        // Refuses an all-zero result (a small-order ephemeral key), as `crypto_box_beforenm` does.
        guard crypto_scalarmult(&shared, secret, Array(field[0..<32])) == 0 else { throw .malformed }
        let zero = [UInt8](repeating: 0, count: 16)
        var plaintext = [UInt8](repeating: 0, count: field.count - Self.overhead)
        let status = field.withUnsafeBufferPointer { field in
            plaintext.withUnsafeMutableBufferPointer { output in
                let nonce = field.baseAddress! + 32
                let sealed = nonce + 24
                let sealedLength = UInt64(field.count - 56)
                var key = [UInt8](repeating: 0, count: 32)
                defer { key.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, 32) } }
                _ = crypto_core_hchacha20(&key, zero, shared, nil)
                if crypto_box_curve25519xchacha20poly1305_open_easy_afternm(
                    output.baseAddress, sealed, sealedLength, nonce, key
                ) == 0 {
                    return Int32(0)
                }
                _ = crypto_core_hsalsa20(&key, zero, shared, nil)
                return crypto_box_open_easy_afternm(output.baseAddress, sealed, sealedLength, nonce, key)
            }
        }
        guard status == 0 else { throw .authentication }
        return plaintext
    }

    /// Seals to the X25519 `recipient`; `ephemeralSecret` and `nonce` are for tests (fresh otherwise).
    package static func seal(
        _ plaintext: some Collection<UInt8>,
        to recipient: [UInt8],
        variant: Variant = .xSalsa20Poly1305,
        ephemeralSecret: [UInt8]? = nil,
        nonce: [UInt8]? = nil
    ) throws(CipherFailure) -> [UInt8] {
        guard recipient.count == 32 else { throw .invalidPublicKey }
        Sodium.ensureInitialised()
        let secret = ephemeralSecret ?? Sodium.randomBytes(32)
        let nonce = nonce ?? Sodium.randomBytes(24)
        guard secret.count == 32, nonce.count == 24 else { throw .invalidSecretKey }
        var ephemeralPublic = [UInt8](repeating: 0, count: 32)
        guard crypto_scalarmult_base(&ephemeralPublic, secret) == 0 else { throw .invalidSecretKey }
        let message = Array(plaintext)
        var sealed = [UInt8](repeating: 0, count: message.count + 16)
        let status: Int32 =
            switch variant {
            case .xSalsa20Poly1305:
                crypto_box_easy(&sealed, message, UInt64(message.count), nonce, recipient, secret)
            case .xChaCha20Poly1305:
                crypto_box_curve25519xchacha20poly1305_easy(
                    &sealed, message, UInt64(message.count), nonce, recipient, secret
                )
            }
        // A small-order recipient makes the shared secret zero, which libsodium refuses.
        guard status == 0 else { throw .invalidPublicKey }
        return ephemeralPublic + nonce + sealed
    }
}
