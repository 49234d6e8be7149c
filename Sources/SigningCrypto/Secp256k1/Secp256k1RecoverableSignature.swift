import CSecp256k1

/// A recoverable secp256k1 ECDSA signature: `r`, `s` and the recovery id (0 or 1).
package struct Secp256k1RecoverableSignature: Sendable, Hashable {
    /// `r || s`, 32 bytes each, big-endian.
    private let compact: [UInt8]
    /// Which of the two candidate points (by parity of y) signed: 0 or 1.
    package let recoveryID: UInt8

    /// n / 2 (rounded down) for secp256k1's group order n, big-endian; `s` above it is "high".
    private static let halfOrder: [UInt8] = [
        0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0x5D, 0x57, 0x6E, 0x73, 0x57, 0xA4, 0x50, 0x1D, 0xDF, 0xE9, 0x2F, 0x46, 0x68, 0x1B, 0x20, 0xA0,
    ]

    /// Parses 65 bytes `r || s || v` with `v` in {0, 1, 27, 28}.
    ///
    /// High-S signatures are accepted here (see `isLowS`) and refused by `recoverPublicKey`.
    /// - Throws: `invalidLength` unless 65 bytes, `invalidRecoveryID` for another `v`, `invalidSignature`
    ///   if `r` or `s` is zero or not below n.
    package init(rsv: some Collection<UInt8>) throws {
        guard rsv.count == 65 else { throw SigningCryptoError.invalidLength }
        let compact = Array(rsv.prefix(64))
        let recoveryID: UInt8
        switch rsv[rsv.index(rsv.startIndex, offsetBy: 64)] {
        case 0, 27: recoveryID = 0
        case 1, 28: recoveryID = 1
        default: throw SigningCryptoError.invalidRecoveryID
        }
        guard !compact[0..<32].allSatisfy({ $0 == 0 }), !compact[32..<64].allSatisfy({ $0 == 0 }) else {
            throw SigningCryptoError.invalidSignature
        }
        // The library refuses r or s ≥ n when parsing.
        var parsed = secp256k1_ecdsa_recoverable_signature()
        let valid = compact.withUnsafeBufferPointer { buffer in
            secp256k1_ecdsa_recoverable_signature_parse_compact(
                Secp256k1Context.shared.pointer, &parsed, buffer.baseAddress!, Int32(recoveryID)
            )
        }
        guard valid == 1 else { throw SigningCryptoError.invalidSignature }
        self.init(compact: compact, recoveryID: recoveryID)
    }

    /// Wraps a signature the library produced.
    init(compact: [UInt8], recoveryID: UInt8) {
        self.compact = compact
        self.recoveryID = recoveryID
    }

    /// `r`, 32 bytes big-endian.
    package var r: [UInt8] { Array(self.compact[0..<32]) }

    /// `s`, 32 bytes big-endian.
    package var s: [UInt8] { Array(self.compact[32..<64]) }

    /// Whether `s ≤ n/2`, the canonical form Ethereum and dstack require.
    package var isLowS: Bool {
        // Big-endian byte strings of equal length compare like the numbers they encode.
        !Self.halfOrder.lexicographicallyPrecedes(self.compact[32..<64])
    }

    /// The 65 bytes `r || s || v` with `v = recoveryID + vOffset` (27 for Ethereum's personal_sign).
    package func rsv(vOffset: UInt8 = 0) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(65)
        output.append(contentsOf: self.compact)
        output.append(self.recoveryID &+ vOffset)
        return output
    }

    /// Recovers the public key that produced this signature over a 32-byte digest.
    ///
    /// - Throws: `highS` if `s > n/2`, `invalidLength` unless the digest is 32 bytes, `recoveryFailed` if
    ///   no point matches.
    package func recoverPublicKey(digest: some Collection<UInt8>) throws -> Secp256k1PublicKey {
        guard self.isLowS else { throw SigningCryptoError.highS }
        let context = Secp256k1Context.shared.pointer
        var signature = secp256k1_ecdsa_recoverable_signature()
        let parsed = self.compact.withUnsafeBufferPointer { buffer in
            secp256k1_ecdsa_recoverable_signature_parse_compact(
                context, &signature, buffer.baseAddress!, Int32(self.recoveryID)
            )
        }
        guard parsed == 1 else { throw SigningCryptoError.invalidSignature }
        let pubkey = try withContiguousBytes(digest) { digest throws(SigningCryptoError) -> secp256k1_pubkey in
            guard digest.count == 32, let digest32 = digest.baseAddress else { throw SigningCryptoError.invalidLength }
            var pubkey = secp256k1_pubkey()
            guard secp256k1_ecdsa_recover(context, &pubkey, &signature, digest32) == 1 else {
                throw SigningCryptoError.recoveryFailed
            }
            return pubkey
        }
        return Secp256k1PublicKey(pubkey)
    }
}
