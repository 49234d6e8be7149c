import NIOCore

/// Finds the top-level string member `"id"` of a JSON object without building a document.
///
/// The input must be exactly one JSON object, optionally surrounded by JSON whitespace; the whole
/// text is checked against the JSON grammar (strings, escapes, numbers, literals, nesting), so a
/// truncated or malformed payload yields `nil`. Nested members named `id` and `"id"` inside strings
/// are ignored because nested values are skipped structurally.
///
/// Decisions worth knowing:
/// - Escapes in the id (`\"`, `\\`, `\uXXXX` with surrogate pairs, ...) are **decoded**, so the result
///   is the string a client's JSON parser sees; a lone surrogate or an id that is not valid UTF-8
///   yields `nil`. Member names are decoded too, so `"\u0069d"` counts as `id`.
/// - An object with more than one top-level `id` member is ambiguous (parsers disagree on which one
///   wins) and yields `nil`; so does an `id` that is not a string, or an empty string (no usable key).
/// - Nesting deeper than `maxDepth` yields `nil` (bounded stack).
/// - Raw bytes inside strings are not checked for UTF-8 validity, except in the id itself.
package enum TopLevelIDExtractor {
    /// Deepest container nesting accepted, the top-level object counting as depth 1.
    package static let maxDepth = 64

    /// The top-level string `id` of the JSON object in `bytes`, or `nil` (see the type's rules).
    package static func stringID(in bytes: UnsafeRawBufferPointer) -> String? {
        var parser = Parser(bytes: bytes)
        return parser.topLevelID()
    }

    /// The top-level string `id` of the JSON object in the readable bytes of `buffer`.
    package static func stringID(in buffer: ByteBuffer) -> String? {
        buffer.withUnsafeReadableBytes { stringID(in: $0) }
    }
}

// MARK: - Parser

extension TopLevelIDExtractor {
    /// A cursor over the bytes; every method returns `false`/`nil` on a grammar violation.
    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        mutating func topLevelID() -> String? {
            skipWhitespace()
            guard consume(JSONByte.openBrace) else { return nil }
            var idMembers = 0
            var id: String?
            skipWhitespace()
            if !consume(JSONByte.closeBrace) {
                while true {
                    skipWhitespace()
                    guard let key = scanString() else { return nil }
                    skipWhitespace()
                    guard consume(JSONByte.colon) else { return nil }
                    skipWhitespace()
                    if isIDKey(key) {
                        idMembers += 1
                        if peek() == JSONByte.quote {
                            guard let value = scanString() else { return nil }
                            id = decodeString(value)
                        } else {
                            guard skipValue(depth: 2) else { return nil }
                        }
                    } else {
                        guard skipValue(depth: 2) else { return nil }
                    }
                    skipWhitespace()
                    if consume(JSONByte.comma) { continue }
                    guard consume(JSONByte.closeBrace) else { return nil }
                    break
                }
            }
            skipWhitespace()
            guard index == bytes.count, idMembers == 1, let id, !id.isEmpty else { return nil }
            return id
        }

        // MARK: Values

        /// Skips one value of any kind; `depth` is the nesting level a container here would have.
        mutating func skipValue(depth: Int) -> Bool {
            guard let byte = peek() else { return false }
            switch byte {
            case JSONByte.quote:
                return scanString() != nil
            case JSONByte.openBrace:
                return skipObject(depth: depth)
            case JSONByte.openBracket:
                return skipArray(depth: depth)
            case UInt8(ascii: "t"):
                return consumeLiteral("true")
            case UInt8(ascii: "f"):
                return consumeLiteral("false")
            case UInt8(ascii: "n"):
                return consumeLiteral("null")
            case UInt8(ascii: "-"), JSONByte.digitZero...JSONByte.digitNine:
                return skipNumber()
            default:
                return false
            }
        }

        mutating func skipObject(depth: Int) -> Bool {
            guard depth <= TopLevelIDExtractor.maxDepth, consume(JSONByte.openBrace) else { return false }
            skipWhitespace()
            if consume(JSONByte.closeBrace) { return true }
            while true {
                skipWhitespace()
                guard scanString() != nil else { return false }
                skipWhitespace()
                guard consume(JSONByte.colon) else { return false }
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                if consume(JSONByte.comma) { continue }
                return consume(JSONByte.closeBrace)
            }
        }

        mutating func skipArray(depth: Int) -> Bool {
            guard depth <= TopLevelIDExtractor.maxDepth, consume(JSONByte.openBracket) else { return false }
            skipWhitespace()
            if consume(JSONByte.closeBracket) { return true }
            while true {
                skipWhitespace()
                guard skipValue(depth: depth + 1) else { return false }
                skipWhitespace()
                if consume(JSONByte.comma) { continue }
                return consume(JSONByte.closeBracket)
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
        mutating func skipNumber() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            if consume(JSONByte.digitZero) {
                // A leading zero stands alone.
            } else {
                guard skipDigits() else { return false }
            }
            if consume(UInt8(ascii: ".")) {
                guard skipDigits() else { return false }
            }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                guard skipDigits() else { return false }
            }
            return true
        }

        /// Skips one or more decimal digits.
        mutating func skipDigits() -> Bool {
            let start = index
            while let byte = peek(), JSONByte.digitZero...JSONByte.digitNine ~= byte { index += 1 }
            return index > start
        }

        mutating func consumeLiteral(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
                return false
            }
            index += count
            return true
        }

        // MARK: Strings

        /// The raw contents of a string (between the quotes, escapes undecoded) and whether it holds
        /// escapes; checks escape syntax and rejects unescaped control characters.
        mutating func scanString() -> RawString? {
            guard consume(JSONByte.quote) else { return nil }
            let start = index
            var hasEscapes = false
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case JSONByte.quote:
                    let raw = RawString(range: start..<index, hasEscapes: hasEscapes)
                    index += 1
                    return raw
                case JSONByte.backslash:
                    hasEscapes = true
                    index += 1
                    guard let escaped = peek() else { return nil }
                    index += 1
                    switch escaped {
                    case JSONByte.quote, JSONByte.backslash, UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        guard bytes.count - index >= 4 else { return nil }
                        for offset in 0..<4 where hexValue(bytes[index + offset]) == nil {
                            return nil
                        }
                        index += 4
                    default:
                        return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }

        func isIDKey(_ key: RawString) -> Bool {
            if !key.hasEscapes {
                return key.range.count == 2
                    && bytes[key.range.lowerBound] == UInt8(ascii: "i")
                    && bytes[key.range.lowerBound + 1] == UInt8(ascii: "d")
            }
            return decodeString(key) == "id"
        }

        /// Decodes a string scanned by `scanString`; `nil` for lone surrogates or invalid UTF-8.
        func decodeString(_ raw: RawString) -> String? {
            let slice = UnsafeRawBufferPointer(rebasing: bytes[raw.range])
            guard raw.hasEscapes else {
                return String(validating: slice, as: UTF8.self)
            }
            var decoded: [UInt8] = []
            decoded.reserveCapacity(slice.count)
            var position = 0
            while position < slice.count {
                let byte = slice[position]
                guard byte == JSONByte.backslash else {
                    decoded.append(byte)
                    position += 1
                    continue
                }
                // scanString validated the escape, so its bytes are present.
                let escaped = slice[position + 1]
                position += 2
                switch escaped {
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = hex4(slice, at: position)
                    position += 4
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard slice.count - position >= 6,
                            slice[position] == JSONByte.backslash,
                            slice[position + 1] == UInt8(ascii: "u")
                        else { return nil }
                        let low = hex4(slice, at: position + 2)
                        guard (0xDC00..<0xE000).contains(low) else { return nil }
                        position += 6
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        return nil
                    }
                    guard let unicodeScalar = Unicode.Scalar(scalar) else { return nil }
                    if let encoded = UTF8.encode(unicodeScalar) { decoded.append(contentsOf: encoded) }
                default:
                    // `"`, `\` and `/` stand for themselves.
                    decoded.append(escaped)
                }
            }
            return String(validating: decoded, as: UTF8.self)
        }

        func hex4(_ slice: UnsafeRawBufferPointer, at position: Int) -> UInt32 {
            var value: UInt32 = 0
            for offset in 0..<4 {
                value = value << 4 | UInt32(hexValue(slice[position + offset]) ?? 0)
            }
            return value
        }

        // MARK: Bytes

        func peek() -> UInt8? {
            index < bytes.count ? bytes[index] : nil
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case JSONByte.space, JSONByte.tab, JSONByte.lineFeed, JSONByte.carriageReturn: index += 1
                default: return
                }
            }
        }
    }

    /// The undecoded contents of a JSON string, as a range of the parser's bytes.
    private struct RawString {
        var range: Range<Int>
        var hasEscapes: Bool
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Byte values of the JSON grammar.
private enum JSONByte {
    static let lineFeed = UInt8(ascii: "\n")
    static let carriageReturn = UInt8(ascii: "\r")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
    static let digitZero = UInt8(ascii: "0")
    static let digitNine = UInt8(ascii: "9")
}
