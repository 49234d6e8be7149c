/// RFC 8785 (JCS) canonical JSON for the flat objects ACI v2 binds as AAD: members sorted by their names'
/// UTF-16 code units, no whitespace, strings escaped as ECMAScript's `JSON.stringify` does, integers plain.
package enum JCS {
    package enum Value: Hashable, Sendable {
        case string(String)
        case integer(Int64)
    }

    /// The canonical bytes of an object with these members (names unique).
    package static func object(_ members: [(String, Value)]) -> [UInt8] {
        let sorted = members.sorted { Array($0.0.utf16).lexicographicallyPrecedes($1.0.utf16) }
        var output: [UInt8] = [UInt8(ascii: "{")]
        output.reserveCapacity(256)
        for (index, (name, value)) in sorted.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            Self.appendString(name, to: &output)
            output.append(UInt8(ascii: ":"))
            switch value {
            case .string(let text): Self.appendString(text, to: &output)
            case .integer(let number): output.append(contentsOf: String(number).utf8)
            }
        }
        output.append(UInt8(ascii: "}"))
        return output
    }

    private static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x00..<0x20:
                let digits = Array("0123456789abcdef".utf8)
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(digits[Int(byte >> 4)])
                output.append(digits[Int(byte & 0x0F)])
            default: output.append(byte)  // UTF-8 passes through unescaped, U+2028/9 and DEL included.
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
