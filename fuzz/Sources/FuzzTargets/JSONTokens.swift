/// Token-level looks at a text, independent of the validator: string literals are skipped by their
/// quotes and backslashes alone, which is exact for valid JSON and good enough to explain why two
/// parsers disagree on invalid JSON.
enum JSONTokens {
    /// Calls `body` with the index and value of each byte outside string literals; stops when it
    /// returns true and returns true then.
    static func anyOutsideStrings(_ bytes: [UInt8], _ body: (Int, UInt8) -> Bool) -> Bool {
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if body(index, byte) {
                return true
            }
            index += 1
        }
        return false
    }

    /// Deepest nesting of `[` and `{` outside strings (exact for valid JSON).
    static func maxDepth(_ bytes: [UInt8]) -> Int {
        var depth = 0
        var deepest = 0
        _ = anyOutsideStrings(bytes) { _, byte in
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            default:
                break
            }
            return false
        }
        return deepest
    }

    /// A `,` followed by optional whitespace and a closing bracket, outside strings.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        anyOutsideStrings(bytes) { index, byte in
            guard byte == UInt8(ascii: ",") else { return false }
            var next = index + 1
            while next < bytes.count, isWhitespace(bytes[next]) { next += 1 }
            return next < bytes.count && (bytes[next] == UInt8(ascii: "]") || bytes[next] == UInt8(ascii: "}"))
        }
    }

    /// A byte order mark, or a zero byte among the first four (Foundation then reads UTF-16 or UTF-32).
    static func looksLikeAnotherEncoding(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.starts(with: [0xFE, 0xFF]) || bytes.starts(with: [0xFF, 0xFE])
            || bytes.prefix(4).contains(0)
    }

    /// A `\uXXXX` escape of a surrogate that is not a high surrogate directly followed by an escaped low one.
    static func hasUnpairedSurrogateEscape(_ bytes: [UInt8]) -> Bool {
        func escape(at index: Int) -> UInt32? {
            guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                return nil
            }
            return UInt32(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16)
        }
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if !inString {
                if byte == UInt8(ascii: "\"") { inString = true }
                index += 1
                continue
            }
            if byte == UInt8(ascii: "\"") {
                inString = false
                index += 1
            } else if byte == UInt8(ascii: "\\") {
                guard let unit = escape(at: index) else {
                    index += 2
                    continue
                }
                if (0xD800..<0xDC00).contains(unit) {
                    guard let low = escape(at: index + 6), (0xDC00..<0xE000).contains(low) else { return true }
                    index += 12
                } else if (0xDC00..<0xE000).contains(unit) {
                    return true
                } else {
                    index += 6
                }
            } else {
                index += 1
            }
        }
        return false
    }

    /// A number token outside strings that a `Double` cannot hold (it rounds to infinity).
    static func hasNumberOutsideDoubleRange(_ bytes: [UInt8]) -> Bool {
        var start: Int?
        var found = false
        func finish(at end: Int) {
            guard let first = start else { return }
            start = nil
            let token = String(decoding: bytes[first..<end], as: UTF8.self)
            if let value = Double(token), value.isInfinite { found = true }
        }
        _ = anyOutsideStrings(bytes) { index, byte in
            let isNumberByte = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e")
            if isNumberByte {
                if start == nil { start = index }
            } else {
                finish(at: index)
            }
            return found
        }
        finish(at: bytes.count)
        return found
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
