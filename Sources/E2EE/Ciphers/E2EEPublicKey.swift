import CSodium
import SigningCrypto

/// A recipient's key-agreement public key: a secp256k1 point or an X25519 `u` coordinate.
package enum E2EEPublicKey: Hashable, Sendable {
    case secp256k1(Secp256k1PublicKey)
    case x25519([UInt8])

    /// A secp256k1 key as the dialects send it: 64 bytes `x || y`, or 65 bytes with the `04` prefix.
    package static func secp256k1(raw bytes: [UInt8]) throws(CipherFailure) -> Self {
        let sec1: [UInt8]
        switch (bytes.count, bytes.first) {
        case (64, _): sec1 = [0x04] + bytes
        case (65, 0x04): sec1 = bytes
        default: throw .invalidPublicKey
        }
        guard let point = try? Secp256k1PublicKey(sec1: sec1) else { throw .invalidPublicKey }
        return .secp256k1(point)
    }

    /// A raw 32-byte X25519 key.
    package static func x25519(raw bytes: [UInt8]) throws(CipherFailure) -> Self {
        guard bytes.count == 32 else { throw .invalidPublicKey }
        return .x25519(bytes)
    }

    /// A raw 32-byte X25519 key that a client names as its own: one of small order is refused up front, since
    /// every answer sealed to it would have an all-zero shared secret (one X25519 with a fixed scalar: a clamped
    /// scalar maps exactly the small-order points to zero).
    package static func x25519Checked(raw bytes: [UInt8]) throws(CipherFailure) -> Self {
        guard bytes.count == 32 else { throw .invalidPublicKey }
        Sodium.ensureInitialised()
        var output = [UInt8](repeating: 0, count: 32)
        let scalar = [UInt8](repeating: 0x5A, count: 32)
        guard crypto_scalarmult(&output, scalar, bytes) == 0 else { throw .invalidPublicKey }
        return .x25519(bytes)
    }

    /// The bytes an ephemeral key takes in a field: 65 uncompressed SEC1 bytes, or 32 raw bytes.
    package var fieldEncoding: [UInt8] {
        switch self {
        case .secp256k1(let point): point.uncompressed
        case .x25519(let u): u
        }
    }
}
