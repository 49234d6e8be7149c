/// The two signing algorithms of signing-proxy.
enum SignatureAlgorithm: String, Sendable {
    case ecdsa
    case ed25519
}
