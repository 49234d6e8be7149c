/// Decodes the raw contents of a JSON string (between its quotes, escapes included) into the string a
/// client's JSON parser sees.
package enum JSONStringDecoder {
    /// The decoded string; nil for a lone surrogate, a bad escape or bytes that are not UTF-8.
    package static func decode(_ raw: UnsafeRawBufferPointer) -> String? {
        guard raw.contains(UInt8(ascii: "\\")) else {
            return String(validating: raw, as: UTF8.self)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var position = 0
        while position < raw.count {
            let byte = raw[position]
            guard byte == UInt8(ascii: "\\") else {
                decoded.append(byte)
                position += 1
                continue
            }
            guard position + 1 < raw.count else { return nil }
            let escaped = raw[position + 1]
            position += 2
            switch escaped {
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escaped)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(raw, at: position) else { return nil }
                position += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard raw.count - position >= 6, raw[position] == UInt8(ascii: "\\"), raw[position + 1] == UInt8(ascii: "u"),
                        let low = hex4(raw, at: position + 2), (0xDC00..<0xE000).contains(low)
                    else { return nil }
                    position += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    return nil
                }
                guard let unicodeScalar = Unicode.Scalar(scalar), let encoded = UTF8.encode(unicodeScalar) else { return nil }
                decoded.append(contentsOf: encoded)
            default:
                return nil
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }

    private static func hex4(_ raw: UnsafeRawBufferPointer, at position: Int) -> UInt32? {
        guard raw.count - position >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = raw[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
