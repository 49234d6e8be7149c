import CSecp256k1

/// A secp256k1 private key (a scalar `0 < k < n`) with its public key computed once.
///
/// The scalar lives in one heap buffer shared by copies of the value and wiped when the last copy goes.
package struct Secp256k1PrivateKey: Sendable {
    private let secret: SecretKeyStorage
    /// The public key `k·G`, computed at initialization so signing paths never pay for it.
    package let publicKey: Secp256k1PublicKey

    /// Creates a key from its 32-byte big-endian scalar.
    ///
    /// - Throws: `invalidLength` unless exactly 32 bytes, `invalidPrivateKey` if the scalar is 0 or ≥ n.
    package init(rawRepresentation: some Collection<UInt8>) throws {
        guard rawRepresentation.count == SecretBuffer.count else { throw SigningCryptoError.invalidLength }
        try self.init(validating: SecretBuffer(copying: rawRepresentation))
    }

    /// Creates a key from a buffer the caller has filled; the buffer is consumed and wiped.
    private init(validating buffer: consuming SecretBuffer) throws(SigningCryptoError) {
        let context = Secp256k1Context.shared.pointer
        var pubkey = secp256k1_pubkey()
        let valid = buffer.withUnsafeBytes { scalar in
            secp256k1_ec_seckey_verify(context, scalar) == 1
                && secp256k1_ec_pubkey_create(context, &pubkey, scalar) == 1
        }
        guard valid else {
            buffer.wipe()
            throw SigningCryptoError.invalidPrivateKey
        }
        self.publicKey = Secp256k1PublicKey(pubkey)
        self.secret = SecretKeyStorage(buffer)
    }

    /// A fresh key from the system's cryptographically secure generator.
    package static func random() -> Secp256k1PrivateKey {
        while true {
            // A uniformly random 256-bit value is ≥ n with probability about 2^-128; draw again if so.
            if let key = try? Secp256k1PrivateKey(validating: SecretBuffer.random()) {
                return key
            }
        }
    }

    /// The 32-byte big-endian scalar. Secret: never log it or put it in an error.
    package var rawRepresentation: [UInt8] {
        self.secret.withUnsafeBytes { Array(UnsafeBufferPointer(start: $0, count: SecretBuffer.count)) }
    }

    /// Signs a 32-byte digest: deterministic nonce (RFC 6979), low-S, with the recovery id.
    ///
    /// - Throws: `invalidLength` unless `digest` is 32 bytes.
    package func signRecoverable(digest: some Collection<UInt8>) throws -> Secp256k1RecoverableSignature {
        try withContiguousBytes(digest) { digest throws(SigningCryptoError) in
            guard digest.count == 32, let digest32 = digest.baseAddress else { throw SigningCryptoError.invalidLength }
            return try self.signRecoverable(digest32: digest32)
        }
    }

    private func signRecoverable(
        digest32: UnsafePointer<UInt8>
    ) throws(SigningCryptoError) -> Secp256k1RecoverableSignature {
        let context = Secp256k1Context.shared.pointer
        var signature = secp256k1_ecdsa_recoverable_signature()
        let signed = self.secret.withUnsafeBytes { scalar in
            // nil nonce function: the library default, RFC 6979 with HMAC-SHA256.
            secp256k1_ecdsa_sign_recoverable(context, &signature, digest32, scalar, nil, nil)
        }
        guard signed == 1 else { throw SigningCryptoError.signingFailed }
        var recoveryID: Int32 = 0
        let compact = [UInt8](unsafeUninitializedCapacity: 64) { output, initialized in
            _ = secp256k1_ecdsa_recoverable_signature_serialize_compact(
                context, output.baseAddress!, &recoveryID, &signature
            )
            initialized = 64
        }
        return Secp256k1RecoverableSignature(compact: compact, recoveryID: UInt8(recoveryID))
    }
}

extension Secp256k1PrivateKey: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Names the public key only, so interpolating a key into a log line cannot leak the scalar.
    package var description: String {
        "Secp256k1PrivateKey(publicKey: \(Hex.encode(self.publicKey.compressed)))"
    }

    package var debugDescription: String { self.description }

    /// Hides the secret from `dump` and debuggers' mirrors.
    package var customMirror: Mirror {
        Mirror(self, children: ["publicKey": self.publicKey], displayStyle: .struct)
    }
}
