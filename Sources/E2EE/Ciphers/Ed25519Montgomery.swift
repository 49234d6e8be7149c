import CSodium

/// The ed25519 → X25519 maps the ed25519 suites use (libsodium's, which every reference's arithmetic matches).
package enum Ed25519Montgomery {
    /// The Montgomery `u` of an ed25519 public key.
    ///
    /// libsodium refuses a point that is not on the curve or has small order; the Python reference would map any
    /// 32 bytes, but no honest client sends such a key, and encrypting to one would be pointless.
    package static func x25519PublicKey(ed25519 publicKey: [UInt8]) throws(CipherFailure) -> [UInt8] {
        guard publicKey.count == 32 else { throw .invalidPublicKey }
        Sodium.ensureInitialised()
        var output = [UInt8](repeating: 0, count: 32)
        guard crypto_sign_ed25519_pk_to_curve25519(&output, publicKey) == 0 else { throw .invalidPublicKey }
        return output
    }

    /// The X25519 secret of an ed25519 seed: `clamp(SHA-512(seed)[0..<32])`.
    package static func x25519SecretKey(ed25519Seed seed: [UInt8]) throws(CipherFailure) -> [UInt8] {
        var secretKey = try Self.expandedSecretKey(seed: seed)
        defer { Self.wipe(&secretKey) }
        var output = [UInt8](repeating: 0, count: 32)
        guard crypto_sign_ed25519_sk_to_curve25519(&output, secretKey) == 0 else { throw .invalidSecretKey }
        return output
    }

    /// The ed25519 public key of a seed (what DV publishes and compares `X-Model-Pub-Key` with).
    package static func ed25519PublicKey(seed: [UInt8]) throws(CipherFailure) -> [UInt8] {
        var secretKey = try Self.expandedSecretKey(seed: seed)
        defer { Self.wipe(&secretKey) }
        return Array(secretKey[32..<64])
    }

    /// libsodium's 64-byte form `seed || public key`.
    private static func expandedSecretKey(seed: [UInt8]) throws(CipherFailure) -> [UInt8] {
        guard seed.count == 32 else { throw .invalidSecretKey }
        Sodium.ensureInitialised()
        var publicKey = [UInt8](repeating: 0, count: 32)
        var secretKey = [UInt8](repeating: 0, count: 64)
        guard crypto_sign_seed_keypair(&publicKey, &secretKey, seed) == 0 else { throw .invalidSecretKey }
        return secretKey
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { sodium_memzero($0.baseAddress!, $0.count) }
    }
}
