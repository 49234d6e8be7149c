import SigningCrypto

/// Exactly `size` bytes held inline: a digest or a signature kept in a stored record without a heap
/// allocation of its own (the store keeps bytes, not hex: docs/API.md, Signatures).
package struct FixedBytes<let size: Int>: Sendable, Equatable {
    private var storage: InlineArray<size, UInt8>

    /// Copies `bytes`, or `nil` unless there are exactly `size` of them.
    package init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == size else { return nil }
        storage = InlineArray(repeating: 0)
        for (offset, byte) in bytes.enumerated() {
            storage[offset] = byte
        }
    }

    /// Parses `2 × size` lowercase hex digits, or `nil`.
    ///
    /// Lowercase only, so that `hex` gives back the very string parsed: the signed text is rebuilt
    /// from these bytes and must not change by a single character.
    package init?(lowercaseHex text: some StringProtocol) {
        let digits = text.utf8
        guard digits.count == 2 * size else { return nil }
        storage = InlineArray(repeating: 0)
        var offset = 0
        var high: UInt8?
        for digit in digits {
            let value: UInt8
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = digit &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = digit &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            if let first = high {
                storage[offset] = first << 4 | value
                offset += 1
                high = nil
            } else {
                high = value
            }
        }
    }

    /// The bytes as lowercase hex, no prefix.
    package var hex: String {
        withUnsafeBytes { Hex.encode(buffer: $0) }
    }

    /// The bytes as a new array.
    package var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    package func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try storage.span.withUnsafeBytes(body)
    }

    package static func == (lhs: Self, rhs: Self) -> Bool {
        for offset in 0..<size where lhs.storage[offset] != rhs.storage[offset] {
            return false
        }
        return true
    }
}
