import SigningCrypto

/// The v0 `GetKey` signature chain: digests and recovery of both links.
package enum DstackKeyChain {
    /// Length of each link: `r(32) || s(32) || v(1)`, `v` = recovery id 0 or 1.
    package static let linkLength = 65

    /// Link-0 digest: `keccak256(utf8(purpose + ":" + lowercase_hex(publicKey)))`.
    /// - Parameter publicKey: compressed SEC1 (33 bytes) for secp256k1, raw 32 bytes for ed25519.
    package static func keyClaimDigest(purpose: String, publicKey: [UInt8]) -> [UInt8] {
        Keccak256.hash(Array("\(purpose):\(Hex.encode(publicKey))".utf8))
    }

    /// Link-1 digest: `keccak256("dstack-kms-issued" || ":" || appID (20) || appRootPublicKey (33))`.
    package static func kmsClaimDigest(appID: [UInt8], appRootPublicKey: Secp256k1PublicKey) -> [UInt8] {
        Keccak256.hash(Array("dstack-kms-issued:".utf8) + appID + appRootPublicKey.compressed)
    }

    /// Recovers the signer of a link over `digest` (rejects high-S and bad recovery ids).
    /// - Throws: `TEEKeyLoaderError` naming `what` when the link is not a valid recoverable signature.
    package static func recoverSigner(link: [UInt8], digest: [UInt8], what: String) throws(TEEKeyLoaderError) -> Secp256k1PublicKey {
        guard link.count == linkLength else {
            throw .invalidChain("\(what) has \(link.count) bytes, expected \(linkLength)")
        }
        do {
            let signature = try Secp256k1RecoverableSignature(rsv: link)
            return try signature.recoverPublicKey(digest: digest)
        } catch {
            throw .invalidChain("\(what) is not a valid recoverable low-S signature")
        }
    }
}
