/// The dstack `GetKey` chain that proves a signing key was issued to this app by the KMS (docs/API.md, Response fields).
package struct KeyProvenance: Sendable, Codable, Equatable {
    package var path: String
    package var purpose: String
    /// `secp256k1` or `ed25519`.
    package var algorithm: String
    /// Hex: compressed SEC1 (33 bytes) for secp256k1, raw 32 bytes for ed25519.
    package var publicKey: String
    /// Hex of each 65-byte link, as the agent returned them.
    package var signatureChain: [String]
    /// Hex of the 20-byte app id from `Info`, when known.
    package var appID: String?

    package init(
        path: String,
        purpose: String,
        algorithm: String,
        publicKey: String,
        signatureChain: [String],
        appID: String?
    ) {
        self.path = path
        self.purpose = purpose
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.signatureChain = signatureChain
        self.appID = appID
    }

    enum CodingKeys: String, CodingKey {
        case path, purpose, algorithm
        case publicKey = "public_key"
        case signatureChain = "signature_chain"
        case appID = "app_id"
    }
}
