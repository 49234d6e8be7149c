import SigningCrypto

/// The dstack v0 `GetKey` signature chain (`key_provenance` in docs/API.md, "Attestation report:
/// GET /v1/attestation/report"): what each link signs, as the simulator issues it, the proxy checks it at
/// startup and the verifier checks it in a report.
package enum DstackKeyChain {
    /// Length of each link: `r(32) ‖ s(32) ‖ v(1)`, `v` = recovery id 0 or 1.
    package static let linkLength = 65

    /// Link-0 digest: `keccak256(utf8(purpose + ":" + lowercase_hex(publicKey)))`, signed by the app root key.
    /// - Parameter publicKey: compressed SEC1 (33 bytes) for secp256k1, raw 32 bytes for ed25519.
    package static func keyClaimDigest(purpose: String, publicKey: [UInt8]) -> [UInt8] {
        Keccak256.hash(Array("\(purpose):\(Hex.encode(publicKey))".utf8))
    }

    /// Link-1 digest: `keccak256("dstack-kms-issued" ‖ ":" ‖ appID (20) ‖ appRootPublicKey (33, compressed))`,
    /// signed by the KMS root key.
    package static func kmsClaimDigest(appID: [UInt8], appRootPublicKey: Secp256k1PublicKey) -> [UInt8] {
        Keccak256.hash(Array("dstack-kms-issued:".utf8) + appID + appRootPublicKey.compressed)
    }

    /// The key that signed `digest` with `link`, or nil when the link is not 65 bytes, has a bad recovery
    /// id, a high S value (dstack's links are low-S), or recovers to no key.
    package static func recoverSigner(link: some Collection<UInt8>, digest: [UInt8]) -> Secp256k1PublicKey? {
        guard link.count == linkLength, let signature = try? Secp256k1RecoverableSignature(rsv: link), signature.isLowS
        else { return nil }
        return try? signature.recoverPublicKey(digest: digest)
    }
}
