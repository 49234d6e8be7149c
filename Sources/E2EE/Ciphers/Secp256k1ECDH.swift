import CSecp256k1
import SigningCrypto

/// secp256k1 ECDH whose shared secret is the raw x coordinate of the shared point.
///
/// That is what every reference uses as HKDF input (Python `cryptography`'s `ECDH`, Rust `k256`'s
/// `raw_secret_bytes`); libsecp256k1's default would hash the compressed point instead, so a hash function
/// that copies x is passed.
enum Secp256k1ECDH {
    /// A context of our own: `SigningCrypto`'s is internal to it. ECDH multiplies in constant time without the
    /// context's blinding, so no randomisation is needed; the context is only read after creation.
    private final class Context: @unchecked Sendable {
        let pointer: OpaquePointer
        init() {
            guard let context = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE)) else {
                fatalError("secp256k1_context_create failed")
            }
            self.pointer = context
        }
    }

    private static let context = Context()

    /// The 32-byte x coordinate of `secret · point`.
    static func sharedX(secret: Secp256k1PrivateKey, point: Secp256k1PublicKey) throws(CipherFailure) -> [UInt8] {
        let context = Self.context.pointer
        var pubkey = secp256k1_pubkey()
        let uncompressed = point.uncompressed
        guard secp256k1_ec_pubkey_parse(context, &pubkey, uncompressed, uncompressed.count) == 1 else {
            throw .invalidPublicKey
        }
        let scalar = secret.rawRepresentation
        var output = [UInt8](repeating: 0, count: 32)
        let ok = secp256k1_ecdh(
            context, &output, &pubkey, scalar,
            { output, x32, _, _ in
                guard let output, let x32 else { return 0 }
                output.update(from: x32, count: 32)
                return 1
            },
            nil
        )
        guard ok == 1 else { throw .invalidPublicKey }
        return output
    }
}
