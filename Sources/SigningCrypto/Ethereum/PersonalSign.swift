/// EIP-191 version 0x45 signing ("personal_sign"), as wallets and Ethereum verifiers do it.
package enum PersonalSign {
    private static let prefix = Array("\u{19}Ethereum Signed Message:\n".utf8)

    /// `keccak256("\x19Ethereum Signed Message:\n" || decimal byte length || message)`.
    package static func digest(message: some Collection<UInt8>) -> [UInt8] {
        var hasher = Keccak256Hasher()
        hasher.update(Self.prefix)
        hasher.update(String(message.count).utf8)
        hasher.update(message)
        return hasher.finalize()
    }

    /// Signs `message` and returns `"0x"` + 130 hex digits of `r || s || v`, `v` = 27 or 28.
    package static func sign(message: some Collection<UInt8>, with key: Secp256k1PrivateKey) throws -> String {
        let signature = try key.signRecoverable(digest: Self.digest(message: message))
        return "0x" + Hex.encode(signature.rsv(vOffset: 27))
    }

    /// Recovers the address that signed `message`; `signature` is 65 bytes of hex (`0x` optional) with
    /// `v` in {0, 1, 27, 28}.
    ///
    /// - Throws: `SigningCryptoError` for malformed hex, a wrong length, a bad `v`, high S or a failed recovery.
    package static func recoverAddress(message: some Collection<UInt8>, signature: String) throws -> EthereumAddress {
        let parsed = try Secp256k1RecoverableSignature(rsv: Hex.decode(signature))
        let publicKey = try parsed.recoverPublicKey(digest: Self.digest(message: message))
        return EthereumAddress(publicKey: publicKey)
    }
}
