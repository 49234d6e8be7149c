/// Lowercase hexadecimal encoding and lenient decoding.
package enum Hex {
    private static let digits: StaticString = "0123456789abcdef"

    /// Encodes `bytes` as lowercase hex without a `0x` prefix.
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        if let string = bytes.withContiguousStorageIfAvailable({ Self.encode(buffer: UnsafeRawBufferPointer($0)) }) {
            return string
        }
        return Array(bytes).withUnsafeBytes { Self.encode(buffer: $0) }
    }

    /// Encodes a raw buffer as lowercase hex without a `0x` prefix.
    package static func encode(buffer: UnsafeRawBufferPointer) -> String {
        if buffer.isEmpty { return "" }
        return String(unsafeUninitializedCapacity: buffer.count * 2) { output in
            Self.digits.withUTF8Buffer { table in
                var index = 0
                for byte in buffer {
                    output[index] = table[Int(byte >> 4)]
                    output[index + 1] = table[Int(byte & 0x0F)]
                    index += 2
                }
            }
            return buffer.count * 2
        }
    }

    /// Decodes hex digits of either case, with an optional `0x` or `0X` prefix.
    ///
    /// - Throws: `SigningCryptoError.invalidHex` on an odd number of digits or a non-hex character.
    package static func decode(_ string: some StringProtocol) throws -> [UInt8] {
        let utf8 = string.utf8
        if let result = try utf8.withContiguousStorageIfAvailable({ try Self.decode(utf8: $0) }) {
            return result
        }
        return try Array(utf8).withUnsafeBufferPointer { try Self.decode(utf8: $0) }
    }

    private static func decode(utf8 input: UnsafeBufferPointer<UInt8>) throws -> [UInt8] {
        var digits = input[...]
        if digits.count >= 2, digits[digits.startIndex] == UInt8(ascii: "0"),
            digits[digits.startIndex + 1] | 0x20 == UInt8(ascii: "x")
        {
            digits = digits.dropFirst(2)
        }
        guard digits.count % 2 == 0 else { throw SigningCryptoError.invalidHex }
        let count = digits.count / 2
        return try [UInt8](unsafeUninitializedCapacity: count) { output, initialized in
            var index = digits.startIndex
            for position in 0..<count {
                guard let high = Self.value(of: digits[index]), let low = Self.value(of: digits[index + 1]) else {
                    // Elements before `initialized` are plain bytes; nothing to deinitialize.
                    initialized = 0
                    throw SigningCryptoError.invalidHex
                }
                output[position] = high << 4 | low
                index += 2
            }
            initialized = count
        }
    }

    @inline(__always)
    private static func value(of character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character &- UInt8(ascii: "A") &+ 10
        default: nil
        }
    }
}
