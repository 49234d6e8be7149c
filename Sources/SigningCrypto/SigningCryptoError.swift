/// An error thrown by the SigningCrypto primitives.
///
/// Descriptions are short, stable and never contain key material or input bytes, so they are safe to
/// log and to use as metric labels.
package struct SigningCryptoError: Error, CustomStringConvertible, Hashable {
    private enum Code: Hashable {
        case invalidHex
        case invalidLength
        case invalidPrivateKey
        case invalidPublicKey
        case invalidSignature
        case invalidRecoveryID
        case highS
        case recoveryFailed
        case signingFailed
    }

    private let code: Code

    private init(code: Code) {
        self.code = code
    }

    package var description: String {
        switch self.code {
        case .invalidHex: "invalid hex string"
        case .invalidLength: "invalid input length"
        case .invalidPrivateKey: "invalid secp256k1 private key"
        case .invalidPublicKey: "invalid secp256k1 public key"
        case .invalidSignature: "invalid secp256k1 signature"
        case .invalidRecoveryID: "invalid signature recovery id"
        case .highS: "signature is not low-S"
        case .recoveryFailed: "public key recovery failed"
        case .signingFailed: "signing failed"
        }
    }

    /// Odd number of hex digits or a character that is not a hex digit.
    package static var invalidHex: SigningCryptoError { SigningCryptoError(code: .invalidHex) }
    /// A digest, key, signature or address had the wrong number of bytes.
    package static var invalidLength: SigningCryptoError { SigningCryptoError(code: .invalidLength) }
    /// A secp256k1 scalar that is zero or not below the group order.
    package static var invalidPrivateKey: SigningCryptoError { SigningCryptoError(code: .invalidPrivateKey) }
    /// Bytes that are not a valid SEC1 encoding of a point on secp256k1.
    package static var invalidPublicKey: SigningCryptoError { SigningCryptoError(code: .invalidPublicKey) }
    /// `r` or `s` is zero or not below the group order.
    package static var invalidSignature: SigningCryptoError { SigningCryptoError(code: .invalidSignature) }
    /// `v` is not one of 0, 1, 27 or 28.
    package static var invalidRecoveryID: SigningCryptoError { SigningCryptoError(code: .invalidRecoveryID) }
    /// `s` is above half the group order; such signatures are malleable twins and are rejected.
    package static var highS: SigningCryptoError { SigningCryptoError(code: .highS) }
    /// No public key could be recovered from the signature and digest.
    package static var recoveryFailed: SigningCryptoError { SigningCryptoError(code: .recoveryFailed) }
    /// libsecp256k1 refused to sign (not expected with a validated key).
    package static var signingFailed: SigningCryptoError { SigningCryptoError(code: .signingFailed) }
}
