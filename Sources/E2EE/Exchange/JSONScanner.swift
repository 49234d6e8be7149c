/// A JSON text read in place: values are byte ranges of the original, so that a field can be replaced without
/// re-serialising anything around it (the proxy hashes the bytes it sends; docs/E2EE.md, "Which fields").
///
/// Only what the body layer needs: the members of an object, the elements of an array, a string's text, a
/// value's compact form. Structure is checked as far as finding each value's end requires (strings and their
/// escapes, brackets, separators, literals); a number is the run of number characters. Nesting is bounded.
struct JSONScanner {
    /// Any fault in the text; callers answer it in their dialect's vocabulary.
    struct Fault: Error {}

    enum Kind: Equatable {
        case object
        case array
        case string
        case number
        case literal
    }

    /// One object member: its decoded name, where the member starts (the name's opening quote) and its value.
    struct Member {
        let name: String
        let start: Int
        let value: Range<Int>
    }

    let bytes: [UInt8]

    /// Deeper nesting is refused rather than risking the stack (Python's parser stops near 1000).
    static let maximumDepth = 512

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The single value of the whole text (whitespace around it allowed, nothing else).
    func root() throws(Fault) -> Range<Int> {
        let start = self.skipSpace(0)
        let end = try self.valueEnd(start, depth: 0)
        guard self.skipSpace(end) == self.bytes.count else { throw Fault() }
        return start..<end
    }

    func kind(_ value: Range<Int>) -> Kind {
        switch self.bytes[value.lowerBound] {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): .literal
        default: .number
        }
    }

    func isNull(_ value: Range<Int>) -> Bool {
        self.bytes[value.lowerBound] == UInt8(ascii: "n")
    }

    /// The members of the object at `value`, in order (a repeated name appears each time); `[]` if not an object.
    func members(_ value: Range<Int>) throws(Fault) -> [Member] {
        guard self.kind(value) == .object else { return [] }
        var members: [Member] = []
        var index = self.skipSpace(value.lowerBound + 1)
        if self.bytes[index] == UInt8(ascii: "}") { return members }
        while true {
            guard index < value.upperBound, self.bytes[index] == UInt8(ascii: "\"") else { throw Fault() }
            let nameStart = index
            let nameEnd = try self.stringEnd(nameStart)
            let name = try self.string(nameStart..<nameEnd)
            index = self.skipSpace(nameEnd)
            guard index < value.upperBound, self.bytes[index] == UInt8(ascii: ":") else { throw Fault() }
            let valueStart = self.skipSpace(index + 1)
            // The enclosing value's end was found already, so its depth is known to be within bounds.
            let valueEnd = try self.valueEnd(valueStart, depth: 0)
            members.append(Member(name: name, start: nameStart, value: valueStart..<valueEnd))
            index = self.skipSpace(valueEnd)
            guard index < value.upperBound else { throw Fault() }
            if self.bytes[index] == UInt8(ascii: "}") { return members }
            guard self.bytes[index] == UInt8(ascii: ",") else { throw Fault() }
            index = self.skipSpace(index + 1)
        }
    }

    /// The elements of the array at `value`, in order; `[]` if not an array.
    func elements(_ value: Range<Int>) throws(Fault) -> [Range<Int>] {
        guard self.kind(value) == .array else { return [] }
        var elements: [Range<Int>] = []
        var index = self.skipSpace(value.lowerBound + 1)
        if self.bytes[index] == UInt8(ascii: "]") { return elements }
        while true {
            let end = try self.valueEnd(index, depth: 0)
            elements.append(index..<end)
            index = self.skipSpace(end)
            guard index < value.upperBound else { throw Fault() }
            if self.bytes[index] == UInt8(ascii: "]") { return elements }
            guard self.bytes[index] == UInt8(ascii: ",") else { throw Fault() }
            index = self.skipSpace(index + 1)
        }
    }

    // MARK: Strings

    /// The text of the string value at `value` (escapes resolved, UTF-8 checked; a lone surrogate is a fault).
    /// Python's `str()` of a member as DV binds it in AAD: a string as it is, `""` when absent, `True`, `False`,
    /// `None`, a number as written; nil for an object or array (whose `str` is Python's repr).
    func pythonText(_ value: Range<Int>?) throws(Fault) -> String? {
        guard let value else { return "" }
        switch self.kind(value) {
        case .string: return try self.string(value)
        case .literal:
            return switch self.bytes[value.lowerBound] {
            case UInt8(ascii: "t"): "True"
            case UInt8(ascii: "f"): "False"
            default: "None"
            }
        case .number: return String(decoding: self.bytes[value], as: UTF8.self)
        case .object, .array: return nil
        }
    }

    func string(_ value: Range<Int>) throws(Fault) -> String {
        let inner = (value.lowerBound + 1)..<(value.upperBound - 1)
        let slice = self.bytes[inner]
        guard slice.contains(UInt8(ascii: "\\")) else {
            guard let text = String(validating: slice, as: UTF8.self) else { throw Fault() }
            return text
        }
        var output: [UInt8] = []
        output.reserveCapacity(slice.count)
        var index = inner.lowerBound
        while index < inner.upperBound {
            let byte = self.bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                output.append(byte)
                index += 1
                continue
            }
            let escape = self.bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try self.hex4(index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    guard index + 6 <= inner.upperBound, self.bytes[index] == UInt8(ascii: "\\"),
                        self.bytes[index + 1] == UInt8(ascii: "u")
                    else { throw Fault() }
                    let low = try self.hex4(index + 2)
                    guard (0xDC00..<0xE000).contains(low) else { throw Fault() }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw Fault()
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw Fault() }
                output.append(contentsOf: UTF8.encode(unicode)!)
            default: throw Fault()
            }
        }
        guard let text = String(validating: output, as: UTF8.self) else { throw Fault() }
        return text
    }

    private func hex4(_ index: Int) throws(Fault) -> UInt32 {
        guard index + 4 <= self.bytes.count else { throw Fault() }
        var value: UInt32 = 0
        for byte in self.bytes[index..<(index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Fault()
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Whether the value is the string `text` exactly (without decoding when no escape is involved).
    func isString(_ value: Range<Int>, _ text: StaticString) -> Bool {
        guard self.kind(value) == .string else { return false }
        let raw = self.bytes[(value.lowerBound + 1)..<(value.upperBound - 1)]
        if !raw.contains(UInt8(ascii: "\\")) {
            return text.withUTF8Buffer { raw.elementsEqual($0) }
        }
        return (try? self.string(value)) == text.description
    }

    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped, the rest as UTF-8.
    static func encodeString(_ text: String) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        output.reserveCapacity(text.utf8.count + 2)
        let digits = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                output.append(contentsOf: Array("\\u00".utf8))
                output.append(digits[Int(byte >> 4)])
                output.append(digits[Int(byte & 0x0F)])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
        return output
    }

    /// The value's bytes without the whitespace between tokens (what `json.dumps(separators=(",", ":"))` and
    /// serde's `to_string` print, numbers kept as written).
    func compact(_ value: Range<Int>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(value.count)
        var inString = false
        var escaped = false
        for byte in self.bytes[value] {
            if inString {
                output.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "\""): inString = true
            default: break
            }
            output.append(byte)
        }
        return output
    }

    // MARK: Finding ends

    func skipSpace(_ start: Int) -> Int {
        var index = start
        while index < self.bytes.count {
            switch self.bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// The end (exclusive) of the value starting at `start`.
    func valueEnd(_ start: Int, depth: Int) throws(Fault) -> Int {
        guard start < self.bytes.count, depth < Self.maximumDepth else { throw Fault() }
        switch self.bytes[start] {
        case UInt8(ascii: "\""): return try self.stringEnd(start)
        case UInt8(ascii: "{"): return try self.containerEnd(start, close: UInt8(ascii: "}"), object: true, depth: depth)
        case UInt8(ascii: "["): return try self.containerEnd(start, close: UInt8(ascii: "]"), object: false, depth: depth)
        case UInt8(ascii: "t"): return try self.literalEnd(start, "true")
        case UInt8(ascii: "f"): return try self.literalEnd(start, "false")
        case UInt8(ascii: "n"): return try self.literalEnd(start, "null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            var index = start + 1
            while index < self.bytes.count {
                switch self.bytes[index] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
                    UInt8(ascii: "+"), UInt8(ascii: "-"):
                    index += 1
                default: return index
                }
            }
            return index
        default: throw Fault()
        }
    }

    /// The end of the string whose opening quote is at `start` (after its closing quote).
    func stringEnd(_ start: Int) throws(Fault) -> Int {
        var index = start + 1
        while index < self.bytes.count {
            switch self.bytes[index] {
            case UInt8(ascii: "\""): return index + 1
            case UInt8(ascii: "\\"): index += 2
            case 0x00..<0x20: throw Fault()
            default: index += 1
            }
        }
        throw Fault()
    }

    private func literalEnd(_ start: Int, _ literal: StaticString) throws(Fault) -> Int {
        let count = literal.utf8CodeUnitCount
        guard start + count <= self.bytes.count,
            literal.withUTF8Buffer({ self.bytes[start..<(start + count)].elementsEqual($0) })
        else { throw Fault() }
        return start + count
    }

    private func containerEnd(_ start: Int, close: UInt8, object: Bool, depth: Int) throws(Fault) -> Int {
        var index = self.skipSpace(start + 1)
        guard index < self.bytes.count else { throw Fault() }
        if self.bytes[index] == close { return index + 1 }
        while true {
            if object {
                guard index < self.bytes.count, self.bytes[index] == UInt8(ascii: "\"") else { throw Fault() }
                index = self.skipSpace(try self.stringEnd(index))
                guard index < self.bytes.count, self.bytes[index] == UInt8(ascii: ":") else { throw Fault() }
                index = self.skipSpace(index + 1)
            }
            index = self.skipSpace(try self.valueEnd(index, depth: depth + 1))
            guard index < self.bytes.count else { throw Fault() }
            if self.bytes[index] == close { return index + 1 }
            guard self.bytes[index] == UInt8(ascii: ",") else { throw Fault() }
            index = self.skipSpace(index + 1)
        }
    }
}
