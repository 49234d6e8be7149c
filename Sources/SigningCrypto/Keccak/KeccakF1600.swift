/// The Keccak-f[1600] permutation (FIPS 202 §3.3, 24 rounds over 25 little-endian 64-bit lanes).
enum KeccakF1600 {
    /// Round constants for the iota step, rounds 0 to 23.
    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]

    /// Applies the permutation in place to the 25 lanes at `a` (index `x + 5 * y`).
    ///
    /// The lanes are held in locals for all 24 rounds; rho and pi are written out lane by lane so
    /// the compiler sees no tables or loops in the hot part.
    static func permute(_ a: UnsafeMutablePointer<UInt64>) {
        var a00 = a[0], a01 = a[1], a02 = a[2], a03 = a[3], a04 = a[4]
        var a05 = a[5], a06 = a[6], a07 = a[7], a08 = a[8], a09 = a[9]
        var a10 = a[10], a11 = a[11], a12 = a[12], a13 = a[13], a14 = a[14]
        var a15 = a[15], a16 = a[16], a17 = a[17], a18 = a[18], a19 = a[19]
        var a20 = a[20], a21 = a[21], a22 = a[22], a23 = a[23], a24 = a[24]

        Self.roundConstants.withUnsafeBufferPointer { constants in
            for constant in constants {
                // theta
                let c0 = a00 ^ a05 ^ a10 ^ a15 ^ a20
                let c1 = a01 ^ a06 ^ a11 ^ a16 ^ a21
                let c2 = a02 ^ a07 ^ a12 ^ a17 ^ a22
                let c3 = a03 ^ a08 ^ a13 ^ a18 ^ a23
                let c4 = a04 ^ a09 ^ a14 ^ a19 ^ a24
                let d0 = c4 ^ rotl(c1, 1)
                let d1 = c0 ^ rotl(c2, 1)
                let d2 = c1 ^ rotl(c3, 1)
                let d3 = c2 ^ rotl(c4, 1)
                let d4 = c3 ^ rotl(c0, 1)

                // rho and pi: B[y, 2x + 3y] = rot(A[x, y] ^ D[x], r[x, y]); b<x><y> in the output grid.
                let b00 = a00 ^ d0
                let b10 = rotl(a06 ^ d1, 44)
                let b20 = rotl(a12 ^ d2, 43)
                let b30 = rotl(a18 ^ d3, 21)
                let b40 = rotl(a24 ^ d4, 14)
                let b01 = rotl(a03 ^ d3, 28)
                let b11 = rotl(a09 ^ d4, 20)
                let b21 = rotl(a10 ^ d0, 3)
                let b31 = rotl(a16 ^ d1, 45)
                let b41 = rotl(a22 ^ d2, 61)
                let b02 = rotl(a01 ^ d1, 1)
                let b12 = rotl(a07 ^ d2, 6)
                let b22 = rotl(a13 ^ d3, 25)
                let b32 = rotl(a19 ^ d4, 8)
                let b42 = rotl(a20 ^ d0, 18)
                let b03 = rotl(a04 ^ d4, 27)
                let b13 = rotl(a05 ^ d0, 36)
                let b23 = rotl(a11 ^ d1, 10)
                let b33 = rotl(a17 ^ d2, 15)
                let b43 = rotl(a23 ^ d3, 56)
                let b04 = rotl(a02 ^ d2, 62)
                let b14 = rotl(a08 ^ d3, 55)
                let b24 = rotl(a14 ^ d4, 39)
                let b34 = rotl(a15 ^ d0, 41)
                let b44 = rotl(a21 ^ d1, 2)

                // chi, with iota folded into lane (0, 0)
                a00 = b00 ^ (~b10 & b20) ^ constant
                a01 = b10 ^ (~b20 & b30)
                a02 = b20 ^ (~b30 & b40)
                a03 = b30 ^ (~b40 & b00)
                a04 = b40 ^ (~b00 & b10)
                a05 = b01 ^ (~b11 & b21)
                a06 = b11 ^ (~b21 & b31)
                a07 = b21 ^ (~b31 & b41)
                a08 = b31 ^ (~b41 & b01)
                a09 = b41 ^ (~b01 & b11)
                a10 = b02 ^ (~b12 & b22)
                a11 = b12 ^ (~b22 & b32)
                a12 = b22 ^ (~b32 & b42)
                a13 = b32 ^ (~b42 & b02)
                a14 = b42 ^ (~b02 & b12)
                a15 = b03 ^ (~b13 & b23)
                a16 = b13 ^ (~b23 & b33)
                a17 = b23 ^ (~b33 & b43)
                a18 = b33 ^ (~b43 & b03)
                a19 = b43 ^ (~b03 & b13)
                a20 = b04 ^ (~b14 & b24)
                a21 = b14 ^ (~b24 & b34)
                a22 = b24 ^ (~b34 & b44)
                a23 = b34 ^ (~b44 & b04)
                a24 = b44 ^ (~b04 & b14)
            }
        }

        a[0] = a00; a[1] = a01; a[2] = a02; a[3] = a03; a[4] = a04
        a[5] = a05; a[6] = a06; a[7] = a07; a[8] = a08; a[9] = a09
        a[10] = a10; a[11] = a11; a[12] = a12; a[13] = a13; a[14] = a14
        a[15] = a15; a[16] = a16; a[17] = a17; a[18] = a18; a[19] = a19
        a[20] = a20; a[21] = a21; a[22] = a22; a[23] = a23; a[24] = a24
    }

    @inline(__always)
    private static func rotl(_ value: UInt64, _ count: UInt64) -> UInt64 {
        (value &<< count) | (value &>> (64 &- count))
    }
}
