import Crypto
import SigningCrypto

/// A key-agreement secret: the secp256k1 signing key (ecdsa suites) or an X25519 scalar (ed25519 and ACI x25519).
package enum E2EESecretKey: Sendable {
    case secp256k1(Secp256k1PrivateKey)
    case x25519(Curve25519.KeyAgreement.PrivateKey)

    /// An X25519 secret from its 32 raw bytes.
    package static func x25519(raw bytes: [UInt8]) throws(CipherFailure) -> Self {
        guard bytes.count == 32, let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes) else {
            throw .invalidSecretKey
        }
        return .x25519(key)
    }

    /// A fresh key on the same curve as `curve` (an ephemeral key).
    package static func random(_ curve: HybridSuite.Curve) -> Self {
        switch curve {
        case .secp256k1: .secp256k1(Secp256k1PrivateKey.random())
        case .x25519: .x25519(Curve25519.KeyAgreement.PrivateKey())
        }
    }

    package var curve: HybridSuite.Curve {
        switch self {
        case .secp256k1: .secp256k1
        case .x25519: .x25519
        }
    }

    package var publicKey: E2EEPublicKey {
        switch self {
        case .secp256k1(let key): .secp256k1(key.publicKey)
        case .x25519(let key): .x25519(Array(key.publicKey.rawRepresentation))
        }
    }

    /// The raw ECDH output (X25519 output, or the secp256k1 shared point's x).
    func sharedSecret(with peer: E2EEPublicKey) throws(CipherFailure) -> [UInt8] {
        switch (self, peer) {
        case (.secp256k1(let secret), .secp256k1(let point)):
            return try Secp256k1ECDH.sharedX(secret: secret, point: point)
        case (.x25519(let secret), .x25519(let u)):
            guard let peerKey = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: u),
                let shared = try? secret.sharedSecretFromKeyAgreement(with: peerKey)
            else { throw .invalidPublicKey }
            let bytes = shared.withUnsafeBytes { Array($0) }
            // An all-zero output means a small-order peer key: refused, as Python's `cryptography` and libsodium
            // refuse it (swift-crypto returns it).
            guard bytes.contains(where: { $0 != 0 }) else { throw .invalidPublicKey }
            return bytes
        default:
            throw .invalidPublicKey
        }
    }
}
