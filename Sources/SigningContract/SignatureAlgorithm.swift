/// The two signature algorithms of an exchange, named as `signing_algo` names them (docs/API.md, Signatures).
///
/// The names are exact and lowercase: `ECDSA` is not an algorithm name.
package enum SignatureAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// secp256k1, EIP-191 personal_sign; served as `0x` + 130 hex (`r‖s‖v`, v = 27/28), signer named by
    /// its EIP-55 address.
    case ecdsa
    /// Ed25519 over the UTF-8 signed text; served as 128 hex, signer named by its raw 32-byte public key.
    case ed25519
}
