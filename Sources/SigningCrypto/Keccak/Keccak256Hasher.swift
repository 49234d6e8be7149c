/// Incremental Keccak-256 (original Keccak padding `0x01`, rate 136 bytes), as used by Ethereum.
///
/// A value type: copying a hasher forks the computation. Feeding the same bytes in any split gives the
/// same digest as `Keccak256.hash`.
package struct Keccak256Hasher: Sendable {
    /// Bytes absorbed per permutation: (1600 - 2 * 256) / 8.
    static let rate = 136
    private static let rateLanes = rate / 8

    /// The 25 state lanes; a homogeneous tuple so the state lives inline, with no heap allocation.
    private var lanes: (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Bytes of the current block already XORed into the state.
    private var offset = 0

    /// Creates a hasher for an empty message.
    package init() {}

    /// Absorbs `bytes`.
    package mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            self.update(bufferPointer: UnsafeRawBufferPointer(buffer))
        }
        if handled == nil {
            self.withState { lanes, offset in
                for byte in bytes {
                    Self.xorByte(byte, at: offset, into: lanes)
                    offset += 1
                    if offset == Self.rate {
                        KeccakF1600.permute(lanes)
                        offset = 0
                    }
                }
            }
        }
    }

    /// Absorbs the bytes of `bufferPointer`.
    package mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        guard let base = bufferPointer.baseAddress, !bufferPointer.isEmpty else { return }
        let count = bufferPointer.count
        self.withState { lanes, offset in
            var index = 0
            // Finish a partial block byte by byte.
            while offset != 0, index < count {
                Self.xorByte(base.load(fromByteOffset: index, as: UInt8.self), at: offset, into: lanes)
                index &+= 1
                offset &+= 1
                if offset == Self.rate {
                    KeccakF1600.permute(lanes)
                    offset = 0
                }
            }
            // Whole blocks a lane at a time.
            while count &- index >= Self.rate {
                let block = base + index
                for lane in 0..<Self.rateLanes {
                    let word = block.loadUnaligned(fromByteOffset: lane &* 8, as: UInt64.self)
                    lanes[lane] ^= UInt64(littleEndian: word)
                }
                KeccakF1600.permute(lanes)
                index &+= Self.rate
            }
            // Start the next partial block.
            while index < count {
                Self.xorByte(base.load(fromByteOffset: index, as: UInt8.self), at: offset, into: lanes)
                index &+= 1
                offset &+= 1
            }
        }
    }

    /// Pads, squeezes and returns the 32-byte digest.
    package consuming func finalize() -> [UInt8] {
        self.withState { lanes, offset in
            Self.xorByte(0x01, at: offset, into: lanes)
            Self.xorByte(0x80, at: Self.rate - 1, into: lanes)
            KeccakF1600.permute(lanes)
            return [UInt8](unsafeUninitializedCapacity: 32) { output, initialized in
                for lane in 0..<4 {
                    let value = lanes[lane]
                    for byte in 0..<8 {
                        output[lane * 8 + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))
                    }
                }
                initialized = 32
            }
        }
    }

    @inline(__always)
    private static func xorByte(_ byte: UInt8, at position: Int, into lanes: UnsafeMutablePointer<UInt64>) {
        lanes[position >> 3] ^= UInt64(byte) << (8 * UInt64(position & 7))
    }

    /// Gives `body` the lanes as a pointer and the block offset, then stores the offset back.
    @inline(__always)
    private mutating func withState<Result>(
        _ body: (UnsafeMutablePointer<UInt64>, inout Int) -> Result
    ) -> Result {
        var offset = self.offset
        // A homogeneous tuple is laid out contiguously with its elements bound to the element type.
        let result = withUnsafeMutablePointer(to: &self.lanes) { tuple in
            tuple.withMemoryRebound(to: UInt64.self, capacity: 25) { body($0, &offset) }
        }
        self.offset = offset
        return result
    }
}
