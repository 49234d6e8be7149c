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

    /// Opens a field sealed to the X25519 `secret`, trying the XChaCha20 box first, then XSalsa20 (as NEAR does).
    package static func open(_ field: [UInt8], secret: [UInt8]) throws(CipherFailure) -> [UInt8] {
        guard secret.count == 32 else { throw .invalidSecretKey }
        guard field.count >= Self.overhead else { throw .malformed }
        Sodium.ensureInitialised()
        var plaintext = [UInt8](repeating: 0, count: field.count - Self.overhead)
        let status = field.withUnsafeBufferPointer { field in
            plaintext.withUnsafeMutableBufferPointer { output in
                let ephemeral = field.baseAddress!
                let nonce = ephemeral + 32
                let sealed = nonce + 24
                let sealedLength = UInt64(field.count - 56)
                if crypto_box_curve25519xchacha20poly1305_open_easy(
                    output.baseAddress, sealed, sealedLength, nonce, ephemeral, secret
                ) == 0 {
                    return Int32(0)
                }
                return crypto_box_open_easy(output.baseAddress, sealed, sealedLength, nonce, ephemeral, secret)
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
