/// One-shot Keccak-256: the original Keccak submission (padding `0x01`), not NIST SHA3-256.
package enum Keccak256 {
    /// Returns the 32-byte Keccak-256 digest of `bytes`.
    package static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = Keccak256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}
