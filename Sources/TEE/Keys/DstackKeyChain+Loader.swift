import SigningContract
import SigningCrypto

extension DstackKeyChain {
    /// Recovers the signer of a link over `digest` (rejects high-S and bad recovery ids).
    /// - Throws: `TEEKeyLoaderError` naming `what` when the link is not a valid recoverable signature.
    package static func recoverSigner(
        link: [UInt8], digest: [UInt8], what: String
    ) throws(TEEKeyLoaderError) -> Secp256k1PublicKey {
        guard link.count == linkLength else {
            throw .invalidChain("\(what) has \(link.count) bytes, expected \(linkLength)")
        }
        guard let signer = recoverSigner(link: link, digest: digest) else {
            throw .invalidChain("\(what) is not a valid recoverable low-S signature")
        }
        return signer
    }
}
