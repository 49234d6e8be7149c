/// The two signature algorithms of an exchange, named as `signing_algo` names them (docs/API.md, Signatures).
package enum SignatureAlgorithm: String, Sendable, CaseIterable {
    /// secp256k1, EIP-191 personal_sign.
    case ecdsa
    /// Ed25519 over the UTF-8 text.
    case ed25519
}
