/// Writes JSON string literals the way vLLM's Python serializer does.
///
/// Python's `json.dumps(..., ensure_ascii=False)` keeps non-ASCII characters raw, escapes `"` and `\`,
/// uses the short escapes `\n \r \t \b \f`, and writes other control characters as lowercase `\u00xx`.
enum JSONText {
    /// The escaped contents of `string`, without the surrounding quotes.
    static func escaped(_ string: String) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(string.utf8.count)
        Self.appendEscaped(string, to: &output)
        return output
    }

    /// `string` as a quoted JSON string literal.
    static func quoted(_ string: String) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        output.reserveCapacity(string.utf8.count + 2)
        Self.appendEscaped(string, to: &output)
        output.append(UInt8(ascii: "\""))
        return output
    }

    /// Appends the escaped contents of `string` (no quotes) to `output`.
    static func appendEscaped(_ string: String, to output: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x00..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(Self.hexDigits[Int(byte >> 4)])
                output.append(Self.hexDigits[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
        }
    }

    /// Appends the decimal digits of `value` to `output`.
    static func appendInteger(_ value: Int, to output: inout [UInt8]) {
        output.append(contentsOf: String(value).utf8)
    }

    /// Appends `value` as Python's `repr(float)` writes it (`0.0`, `1.0`, `-0.0752…`, `1e-05`): the
    /// shortest digits that round-trip, which Swift's `description` also produces for finite values.
    static func appendFloat(_ value: Double, to output: inout [UInt8]) {
        output.append(contentsOf: (value.isFinite ? value.description : "NaN").utf8)
    }

    /// Lowercase hexadecimal digits, indexed by nibble.
    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
