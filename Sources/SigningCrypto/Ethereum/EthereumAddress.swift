/// A 20-byte Ethereum account address.
package struct EthereumAddress: Sendable, Hashable, CustomStringConvertible {
    /// The 20 address bytes.
    package let bytes: [UInt8]

    /// The address of `publicKey`: the last 20 bytes of `keccak256(x || y)`.
    package init(publicKey: Secp256k1PublicKey) {
        self.bytes = Array(Keccak256.hash(publicKey.xy).suffix(20))
    }

    /// Parses 40 hex digits with an optional `0x` prefix. Letter case is not checked against EIP-55.
    ///
    /// - Throws: `invalidHex` for a non-hex digit or odd count, `invalidLength` unless 20 bytes.
    package init(string: some StringProtocol) throws {
        let bytes = try Hex.decode(string)
        guard bytes.count == 20 else { throw SigningCryptoError.invalidLength }
        self.bytes = bytes
    }

    /// The EIP-55 mixed-case checksum form with `0x`: a hex letter is upper case when the matching
    /// nibble of `keccak256(lowercase hex)` is 8 or more.
    package var checksummed: String {
        let lowercase = Hex.encode(self.bytes)
        let hash = Keccak256.hash(lowercase.utf8)
        var characters = [UInt8]()
        characters.reserveCapacity(42)
        characters.append(UInt8(ascii: "0"))
        characters.append(UInt8(ascii: "x"))
        for (index, character) in lowercase.utf8.enumerated() {
            let nibble = index % 2 == 0 ? hash[index / 2] >> 4 : hash[index / 2] & 0x0F
            let isLetter = character >= UInt8(ascii: "a")
            characters.append(isLetter && nibble >= 8 ? character - 0x20 : character)
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// The checksummed form.
    package var description: String { self.checksummed }
}
