import NIOCore

/// Checks that bytes are exactly one RFC 8259 JSON text, without building a document or allocating.
///
/// The proxy forwards bodies byte for byte and only needs a yes or no (and whether the document is an
/// object), so this walks the grammar once over the caller's memory:
/// - Whitespace is space, tab, LF and CR only; one value, nothing but whitespace around it; no byte
///   order mark, comments, trailing commas, `NaN`/`Infinity`, leading zeros or bare `-`.
/// - Strings: no raw byte below 0x20; escapes `\" \\ \/ \b \f \n \r \t \uXXXX` only. A `\uXXXX` that is
///   a lone surrogate is accepted, as Python's `json` accepts it. Raw bytes must be well-formed UTF-8
///   (RFC 3629: no overlong forms, no encoded surrogates, nothing above U+10FFFF, no truncated or stray
///   sequences).
/// - Arrays and objects nest at most `maxDepth` deep; the containers are tracked in a fixed stack
///   buffer, never by recursion, so no input can exhaust the thread's stack.
package enum JSONValidator {
    /// The kind of a valid document's top-level value.
    package enum TopLevel: Sendable, Hashable {
        case object
        case array
        /// A string, number, `true`, `false` or `null`.
        case scalar
    }

    /// Deepest nesting of arrays and objects accepted, the top-level container counting as 1.
    package static let maxDepth = 512

    /// The kind of the top-level value if `bytes` is one valid JSON text, else `nil`.
    package static func validate(_ bytes: UnsafeRawBufferPointer) -> TopLevel? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        // 512 one-byte flags: small enough that the standard library places them on the stack.
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: maxDepth) { enclosingIsObject in
            var scanner = Scanner(base: base, end: bytes.count)
            return scanner.document(enclosingIsObject: enclosingIsObject)
        }
    }

    /// The kind of the top-level value if the readable bytes of `buffer` are one valid JSON text.
    package static func validate(_ buffer: ByteBuffer) -> TopLevel? {
        buffer.withUnsafeReadableBytes { validate($0) }
    }

    /// What one pass found at a member path, besides validity.
    package enum Member: Sendable, Hashable {
        case absent
        /// A string value: the bytes between its quotes, escapes undecoded.
        case string(Range<Int>)
        /// A value of another kind.
        case other
        /// The path occurs more than once (JSON parsers disagree on which one wins).
        case ambiguous
    }

    /// Validates `bytes` as `validate` does and, in the same pass, finds the member at `path` (object keys
    /// from the top level down, e.g. `["response", "id"]`), so one grammar and one depth limit decide both.
    /// - Returns: nil when the bytes are not one valid JSON text.
    package static func scan(_ bytes: UnsafeRawBufferPointer, path: [[UInt8]]) -> (topLevel: TopLevel, member: Member)? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: Bool.self, capacity: maxDepth) { enclosingIsObject in
            var scanner = Scanner(base: base, end: bytes.count)
            scanner.path = path
            guard let topLevel = scanner.document(enclosingIsObject: enclosingIsObject) else { return nil }
            return (topLevel, scanner.found)
        }
    }
}

// MARK: - Scanner

extension JSONValidator {
    /// A cursor over the bytes; every method returns `false` (or `nil`) on the first grammar violation.
    private struct Scanner {
        let base: UnsafeRawPointer
        let end: Int
        var index = 0
        /// The member path looked for (empty: none), how many enclosing containers lie on it, whether
        /// the member name just read continues it, and what was found.
        var path: [[UInt8]] = []
        var onPath = 0
        var nameOnPath = false
        var found = JSONValidator.Member.absent

        init(base: UnsafeRawPointer, end: Int) {
            self.base = base
            self.end = end
        }

        @inline(__always)
        func byte(at offset: Int) -> UInt8 {
            base.load(fromByteOffset: offset, as: UInt8.self)
        }

        @inline(__always)
        mutating func skipWhitespace() {
            while index < end {
                switch byte(at: index) {
                case 0x20, 0x0A, 0x0D, 0x09: index += 1
                default: return
                }
            }
        }

        /// The whole text: a loop over values and separators with an explicit container stack.
        ///
        /// `enclosingIsObject[d]` holds the kind of the container that encloses the one at depth `d + 1`,
        /// restored into `inObject` when that one closes.
        mutating func document(enclosingIsObject: UnsafeMutableBufferPointer<Bool>) -> TopLevel? {
            var depth = 0
            var inObject = false
            var topLevel = TopLevel.scalar
            var expectingValue = true
            while true {
                if expectingValue {
                    skipWhitespace()
                    guard index < end else { return nil }
                    let opening = byte(at: index)
                    let valueOnPath = nameOnPath
                    nameOnPath = false
                    if valueOnPath, depth == path.count { record(opening == UInt8(ascii: "\"") ? nil : .other) }
                    if opening == UInt8(ascii: "{") || opening == UInt8(ascii: "[") {
                        guard depth < JSONValidator.maxDepth else { return nil }
                        let isObject = opening == UInt8(ascii: "{")
                        // The top-level object, or an object that is the value of the path's next name.
                        let continuesPath = isObject && !path.isEmpty && depth == onPath
                            && (depth == 0 || (valueOnPath && depth < path.count))
                        if depth == 0 { topLevel = isObject ? .object : .array }
                        index += 1
                        skipWhitespace()
                        guard index < end else { return nil }
                        if byte(at: index) == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                            index += 1
                            expectingValue = false
                            continue
                        }
                        enclosingIsObject[depth] = inObject
                        depth += 1
                        inObject = isObject
                        if continuesPath { onPath = depth }
                        if isObject { guard memberName(depth: depth) else { return nil } }
                        continue
                    }
                    let start = index + 1
                    guard scalar(first: opening) else { return nil }
                    if valueOnPath, depth == path.count, opening == UInt8(ascii: "\"") { record(.string(start..<(index - 1))) }
                    expectingValue = false
                } else {
                    skipWhitespace()
                    if depth == 0 { return index == end ? topLevel : nil }
                    guard index < end else { return nil }
                    let separator = byte(at: index)
                    index += 1
                    if separator == UInt8(ascii: ",") {
                        if inObject { guard memberName(depth: depth) else { return nil } }
                        expectingValue = true
                    } else if separator == (inObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                        depth -= 1
                        inObject = enclosingIsObject[depth]
                        if onPath > depth { onPath = depth }
                    } else {
                        return nil
                    }
                }
            }
        }

        /// `ws string ws :`, the part of a member before its value.
        mutating func memberName(depth: Int) -> Bool {
            skipWhitespace()
            guard index < end, byte(at: index) == UInt8(ascii: "\"") else { return false }
            index += 1
            let start = index
            guard string() else { return false }
            if onPath == depth, depth >= 1, depth <= path.count {
                nameOnPath = nameEquals(start..<(index - 1), path[depth - 1])
            }
            skipWhitespace()
            guard index < end, byte(at: index) == UInt8(ascii: ":") else { return false }
            index += 1
            return true
        }

        /// Notes the value at the path: a string (its range), another kind (nil means "a string follows").
        mutating func record(_ member: JSONValidator.Member?) {
            guard let member else { return }
            if case .absent = found { found = member } else { found = .ambiguous }
        }

        /// Whether the raw name at `range` (escapes undecoded) is `name`.
        func nameEquals(_ range: Range<Int>, _ name: [UInt8]) -> Bool {
            let raw = UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
            if raw.elementsEqual(name) { return true }
            guard raw.contains(UInt8(ascii: "\\")) else { return false }
            return JSONStringDecoder.decode(raw).map { Array($0.utf8) == name } ?? false
        }

        /// A string, number or literal starting with `first`, the byte at `index`.
        mutating func scalar(first: UInt8) -> Bool {
            switch first {
            case UInt8(ascii: "\""):
                index += 1
                return string()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return number()
            case UInt8(ascii: "t"):
                return literal("true")
            case UInt8(ascii: "f"):
                return literal("false")
            case UInt8(ascii: "n"):
                return literal("null")
            default:
                return false
            }
        }

        // MARK: Strings

        /// The rest of a string whose opening quote is consumed, through its closing quote.
        mutating func string() -> Bool {
            while true {
                // Eight bytes at a time until one needs a look: most of a body is plain ASCII text.
                while end - index >= 8 {
                    let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                    let flags = Self.specialBytes(word)
                    if flags != 0 {
                        index += flags.trailingZeroBitCount >> 3
                        break
                    }
                    index += 8
                }
                guard index < end else { return false }
                let current = byte(at: index)
                if current == UInt8(ascii: "\"") {
                    index += 1
                    return true
                } else if current == UInt8(ascii: "\\") {
                    guard escape() else { return false }
                } else if current < 0x20 {
                    return false
                } else if current < 0x80 {
                    index += 1  // only in the last few bytes, where no full word is left
                } else {
                    guard utf8Sequence(lead: current) else { return false }
                }
            }
        }

        /// The high bit of each byte of `word` that is a quote, a backslash, below 0x20 or above 0x7F.
        ///
        /// Borrows can also flag a byte after a flagged one, never before it, so the lowest flag (the
        /// first byte in memory, `word` being little-endian) is exact.
        @inline(__always)
        static func specialBytes(_ word: UInt64) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let quotes = word ^ (ones &* 0x22)
            let backslashes = word ^ (ones &* 0x5C)
            let controls = (word &- ones &* 0x20) & ~word
            let zeroQuote = (quotes &- ones) & ~quotes
            let zeroBackslash = (backslashes &- ones) & ~backslashes
            return (controls | zeroQuote | zeroBackslash | word) & (ones &* 0x80)
        }

        /// One escape sequence at `index` (the backslash).
        mutating func escape() -> Bool {
            guard end - index >= 2 else { return false }
            switch byte(at: index + 1) {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                index += 2
                return true
            case UInt8(ascii: "u"):
                guard end - index >= 6 else { return false }
                for offset in 2..<6 where !Self.isHexDigit(byte(at: index + offset)) { return false }
                index += 6
                return true
            default:
                return false
            }
        }

        @inline(__always)
        static func isHexDigit(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
                UInt8(ascii: "A")...UInt8(ascii: "F"):
                return true
            default:
                return false
            }
        }

        /// One multi-byte UTF-8 sequence at `index` whose first byte is `lead` (0x80 or above), RFC 3629 §4.
        mutating func utf8Sequence(lead: UInt8) -> Bool {
            // The second byte's range is what excludes overlong forms (E0, F0), surrogates (ED) and
            // code points above U+10FFFF (F4); C0, C1 and F5...FF never start a sequence.
            let length: Int
            let secondLow: UInt8
            let secondHigh: UInt8
            switch lead {
            case 0xC2...0xDF: (length, secondLow, secondHigh) = (2, 0x80, 0xBF)
            case 0xE0: (length, secondLow, secondHigh) = (3, 0xA0, 0xBF)
            case 0xED: (length, secondLow, secondHigh) = (3, 0x80, 0x9F)
            case 0xE1...0xEF: (length, secondLow, secondHigh) = (3, 0x80, 0xBF)
            case 0xF0: (length, secondLow, secondHigh) = (4, 0x90, 0xBF)
            case 0xF1...0xF3: (length, secondLow, secondHigh) = (4, 0x80, 0xBF)
            case 0xF4: (length, secondLow, secondHigh) = (4, 0x80, 0x8F)
            default: return false
            }
            guard end - index >= length else { return false }
            let second = byte(at: index + 1)
            guard second >= secondLow, second <= secondHigh else { return false }
            if length >= 3 {
                guard byte(at: index + 2) & 0xC0 == 0x80 else { return false }
                if length == 4 {
                    guard byte(at: index + 3) & 0xC0 == 0x80 else { return false }
                }
            }
            index += length
            return true
        }

        // MARK: Numbers and literals

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` at `index`.
        mutating func number() -> Bool {
            if byte(at: index) == UInt8(ascii: "-") { index += 1 }
            guard index < end else { return false }
            let first = byte(at: index)
            if first == UInt8(ascii: "0") {
                index += 1  // a leading zero stands alone; a digit after it fails at the caller
            } else {
                guard digits() else { return false }
            }
            if index < end, byte(at: index) == UInt8(ascii: ".") {
                index += 1
                guard digits() else { return false }
            }
            if index < end, byte(at: index) | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < end, byte(at: index) == UInt8(ascii: "+") || byte(at: index) == UInt8(ascii: "-") {
                    index += 1
                }
                guard digits() else { return false }
            }
            return true
        }

        /// One or more decimal digits.
        @inline(__always)
        mutating func digits() -> Bool {
            let start = index
            while index < end, byte(at: index) &- UInt8(ascii: "0") < 10 { index += 1 }
            return index > start
        }

        /// `text` exactly, at `index`.
        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard end - index >= count else { return false }
            for offset in 0..<count where byte(at: index + offset) != text.utf8Start[offset] { return false }
            index += count
            return true
        }
    }
}
