import CSecp256k1

/// A point on secp256k1, stored as its 64-byte affine coordinates `x || y`.
package struct Secp256k1PublicKey: Sendable, Hashable {
    /// `x || y`, big-endian, 32 bytes each.
    package let xy: [UInt8]

    /// Parses a SEC1 point: 33 bytes compressed (`02`/`03`) or 65 bytes uncompressed (`04`).
    ///
    /// - Throws: `invalidLength` for any other size, `invalidPublicKey` for another prefix (hybrid `06`/`07`
    ///   included) or a point not on the curve.
    package init(sec1: some Collection<UInt8>) throws {
        let pubkey = try withContiguousBytes(sec1) { bytes throws(SigningCryptoError) -> secp256k1_pubkey in
            switch (bytes.count, bytes.first) {
            case (33, 0x02), (33, 0x03), (65, 0x04): break
            case (33, _), (65, _): throw SigningCryptoError.invalidPublicKey
            default: throw SigningCryptoError.invalidLength
            }
            var pubkey = secp256k1_pubkey()
            guard let base = bytes.baseAddress,
                secp256k1_ec_pubkey_parse(Secp256k1Context.shared.pointer, &pubkey, base, bytes.count) == 1
            else { throw SigningCryptoError.invalidPublicKey }
            return pubkey
        }
        self.init(pubkey)
    }

    /// Wraps a point the library has already validated.
    init(_ pubkey: secp256k1_pubkey) {
        var pubkey = pubkey
        let uncompressed = [UInt8](unsafeUninitializedCapacity: 65) { output, initialized in
            var length = 65
            _ = secp256k1_ec_pubkey_serialize(
                Secp256k1Context.shared.pointer, output.baseAddress!, &length, &pubkey,
                UInt32(SECP256K1_EC_UNCOMPRESSED)
            )
            initialized = length
        }
        self.xy = Array(uncompressed.dropFirst())
    }

    /// The 33-byte SEC1 compressed form: `02` or `03` (parity of y), then x.
    package var compressed: [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(33)
        output.append(0x02 | (self.xy[63] & 1))
        output.append(contentsOf: self.xy[0..<32])
        return output
    }

    /// The 65-byte SEC1 uncompressed form: `04 || x || y`.
    package var uncompressed: [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(65)
        output.append(0x04)
        output.append(contentsOf: self.xy)
        return output
    }
}
