import NIOCore

/// Parses a request body as JSON with the acceptance rules and error positions of Python's `json.loads`.
///
/// vLLM parses bodies with Python's `json` (it accepts `NaN` and `Infinity`, rejects control characters in
/// strings) and reports the first error's message and character position; this parser reproduces both, so
/// the mock's "bad JSON" answers carry the same text as vLLM's. Nesting is limited to keep recursion shallow.
struct JSONParser {
    /// Deepest nesting of arrays and objects accepted; requests never come close.
    static let maximumDepth = 128

    private let bytes: UnsafeRawBufferPointer
    private var depth = 0

    private init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Parses the readable bytes of `buffer` as one JSON document.
    static func parse(_ buffer: ByteBuffer) -> Result<JSONValue, JSONSyntaxError> {
        buffer.withUnsafeReadableBytes { Self.parse(rawBytes: $0) }
    }

    /// Parses `bytes` as one JSON document.
    static func parse(_ bytes: some Collection<UInt8>) -> Result<JSONValue, JSONSyntaxError> {
        Array(bytes).withUnsafeBytes { Self.parse(rawBytes: $0) }
    }

    private static func parse(rawBytes: UnsafeRawBufferPointer) -> Result<JSONValue, JSONSyntaxError> {
        var parser = JSONParser(bytes: rawBytes)
        do throws(JSONSyntaxError) {
            return .success(try parser.parseDocument())
        } catch {
            return .failure(error)
        }
    }

    // MARK: - Grammar

    private mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        let start = self.skipWhitespace(from: 0)
        let (value, end) = try self.parseValue(at: start)
        let trailing = self.skipWhitespace(from: end)
        guard trailing == self.bytes.count else {
            throw .extraData(byteOffset: trailing, position: self.position(of: trailing))
        }
        return value
    }

    private mutating func parseValue(at index: Int) throws(JSONSyntaxError) -> (JSONValue, Int) {
        guard index < self.bytes.count else { throw self.expectingValue(at: index) }
        switch self.bytes[index] {
        case UInt8(ascii: "\""):
            let (string, end) = try self.parseString(openingQuote: index)
            return (.string(string), end)
        case UInt8(ascii: "{"):
            return try self.parseObject(at: index)
        case UInt8(ascii: "["):
            return try self.parseArray(at: index)
        case UInt8(ascii: "n") where self.matches("null", at: index):
            return (.null, index + 4)
        case UInt8(ascii: "t") where self.matches("true", at: index):
            return (.bool(true), index + 4)
        case UInt8(ascii: "f") where self.matches("false", at: index):
            return (.bool(false), index + 5)
        case UInt8(ascii: "N") where self.matches("NaN", at: index):
            return (.double(.nan), index + 3)
        case UInt8(ascii: "I") where self.matches("Infinity", at: index):
            return (.double(.infinity), index + 8)
        case UInt8(ascii: "-") where self.matches("-Infinity", at: index):
            return (.double(-.infinity), index + 9)
        default:
            guard let number = self.parseNumber(at: index) else { throw self.expectingValue(at: index) }
            return number
        }
    }

    private mutating func parseObject(at index: Int) throws(JSONSyntaxError) -> (JSONValue, Int) {
        try self.enterContainer(at: index)
        defer { self.depth -= 1 }
        var members: [String: JSONValue] = [:]
        var cursor = self.skipWhitespace(from: index + 1)
        if cursor < self.bytes.count, self.bytes[cursor] == UInt8(ascii: "}") {
            return (.object(members), cursor + 1)
        }
        while true {
            guard cursor < self.bytes.count, self.bytes[cursor] == UInt8(ascii: "\"") else {
                throw .expectingPropertyName(byteOffset: cursor, position: self.position(of: cursor))
            }
            let (key, afterKey) = try self.parseString(openingQuote: cursor)
            let colon = self.skipWhitespace(from: afterKey)
            guard colon < self.bytes.count, self.bytes[colon] == UInt8(ascii: ":") else {
                throw .expectingColon(byteOffset: colon, position: self.position(of: colon))
            }
            let (value, afterValue) = try self.parseValue(at: self.skipWhitespace(from: colon + 1))
            members[key] = value
            let next = self.skipWhitespace(from: afterValue)
            if next < self.bytes.count, self.bytes[next] == UInt8(ascii: "}") {
                return (.object(members), next + 1)
            }
            guard next < self.bytes.count, self.bytes[next] == UInt8(ascii: ",") else {
                throw .expectingComma(byteOffset: next, position: self.position(of: next))
            }
            cursor = self.skipWhitespace(from: next + 1)
        }
    }

    private mutating func parseArray(at index: Int) throws(JSONSyntaxError) -> (JSONValue, Int) {
        try self.enterContainer(at: index)
        defer { self.depth -= 1 }
        var elements: [JSONValue] = []
        var cursor = self.skipWhitespace(from: index + 1)
        if cursor < self.bytes.count, self.bytes[cursor] == UInt8(ascii: "]") {
            return (.array(elements), cursor + 1)
        }
        while true {
            let (value, afterValue) = try self.parseValue(at: cursor)
            elements.append(value)
            let next = self.skipWhitespace(from: afterValue)
            if next < self.bytes.count, self.bytes[next] == UInt8(ascii: "]") {
                return (.array(elements), next + 1)
            }
            guard next < self.bytes.count, self.bytes[next] == UInt8(ascii: ",") else {
                throw .expectingComma(byteOffset: next, position: self.position(of: next))
            }
            cursor = self.skipWhitespace(from: next + 1)
        }
    }

    /// Parses the string whose opening quote is at `openingQuote`; returns it and the index after its closing quote.
    private func parseString(openingQuote: Int) throws(JSONSyntaxError) -> (String, Int) {
        var index = openingQuote + 1
        var segmentStart = index
        // Only strings with escapes are copied; most request strings are taken straight from the buffer.
        var unescaped: [UInt8]? = nil
        while true {
            guard index < self.bytes.count else {
                throw .unterminatedString(byteOffset: openingQuote, position: self.position(of: openingQuote))
            }
            let byte = self.bytes[index]
            if byte == UInt8(ascii: "\"") {
                let tail = UnsafeRawBufferPointer(rebasing: self.bytes[segmentStart..<index])
                guard var copied = unescaped else {
                    return (String(decoding: tail, as: UTF8.self), index + 1)
                }
                copied.append(contentsOf: tail)
                return (String(decoding: copied, as: UTF8.self), index + 1)
            }
            if byte == UInt8(ascii: "\\") {
                var copied = unescaped ?? []
                copied.append(contentsOf: UnsafeRawBufferPointer(rebasing: self.bytes[segmentStart..<index]))
                index = try self.appendEscape(at: index, openingQuote: openingQuote, to: &copied)
                unescaped = copied
                segmentStart = index
                continue
            }
            if byte < 0x20 {
                throw .invalidControlCharacter(byteOffset: index, position: self.position(of: index))
            }
            index += 1
        }
    }

    /// Decodes the escape whose backslash is at `backslash` into `output`; returns the index after it.
    private func appendEscape(
        at backslash: Int,
        openingQuote: Int,
        to output: inout [UInt8]
    ) throws(JSONSyntaxError) -> Int {
        guard backslash + 1 < self.bytes.count else {
            throw .unterminatedString(byteOffset: openingQuote, position: self.position(of: openingQuote))
        }
        let simple: UInt8
        switch self.bytes[backslash + 1] {
        case UInt8(ascii: "\""): simple = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): simple = UInt8(ascii: "\\")
        case UInt8(ascii: "/"): simple = UInt8(ascii: "/")
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            return try self.appendUnicodeEscape(u: backslash + 1, to: &output)
        default:
            throw .invalidEscape(byteOffset: backslash, position: self.position(of: backslash))
        }
        output.append(simple)
        return backslash + 2
    }

    /// Decodes `\uXXXX` (and a following low surrogate) whose `u` is at `u`; returns the index after it.
    private func appendUnicodeEscape(u: Int, to output: inout [UInt8]) throws(JSONSyntaxError) -> Int {
        guard let high = self.hexQuad(at: u + 1) else {
            throw .invalidUnicodeEscape(byteOffset: u, position: self.position(of: u))
        }
        var end = u + 5
        var scalarValue = UInt32(high)
        if (0xD800...0xDBFF).contains(high), self.matches("\\u", at: end) {
            guard let low = self.hexQuad(at: end + 2) else {
                throw .invalidUnicodeEscape(byteOffset: end + 1, position: self.position(of: end + 1))
            }
            if (0xDC00...0xDFFF).contains(low) {
                scalarValue = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                end += 6
            }
        }
        // Python keeps lone surrogates; a Swift string cannot, so they become U+FFFD.
        let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
        UTF8.encode(scalar) { output.append($0) }
        return end
    }

    private func hexQuad(at index: Int) -> UInt16? {
        guard index + 4 <= self.bytes.count else { return nil }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = self.bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// Matches Python's number grammar `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`; nil when nothing matches.
    private func parseNumber(at index: Int) -> (JSONValue, Int)? {
        var cursor = index
        if self.byte(at: cursor) == UInt8(ascii: "-") { cursor += 1 }
        guard let first = self.byte(at: cursor), Self.isDigit(first) else { return nil }
        cursor += 1
        if first != UInt8(ascii: "0") {
            while let byte = self.byte(at: cursor), Self.isDigit(byte) { cursor += 1 }
        }
        var isInteger = true
        if self.byte(at: cursor) == UInt8(ascii: "."), let next = self.byte(at: cursor + 1), Self.isDigit(next) {
            isInteger = false
            cursor += 2
            while let byte = self.byte(at: cursor), Self.isDigit(byte) { cursor += 1 }
        }
        if let marker = self.byte(at: cursor), marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") {
            var exponent = cursor + 1
            if let sign = self.byte(at: exponent), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                exponent += 1
            }
            if let digit = self.byte(at: exponent), Self.isDigit(digit) {
                while let byte = self.byte(at: exponent), Self.isDigit(byte) { exponent += 1 }
                isInteger = false
                cursor = exponent
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: self.bytes[index..<cursor]), as: UTF8.self)
        if isInteger, let integer = Int(text) {
            return (.integer(integer), cursor)
        }
        return (.double(Double(text) ?? .nan), cursor)
    }

    // MARK: - Helpers

    private mutating func enterContainer(at index: Int) throws(JSONSyntaxError) {
        self.depth += 1
        if self.depth > Self.maximumDepth {
            self.depth -= 1
            throw .nestingTooDeep(byteOffset: index, position: self.position(of: index))
        }
    }

    private func expectingValue(at index: Int) -> JSONSyntaxError {
        .expectingValue(byteOffset: index, position: self.position(of: index))
    }

    private func byte(at index: Int) -> UInt8? {
        index < self.bytes.count ? self.bytes[index] : nil
    }

    private func matches(_ literal: StaticString, at index: Int) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= self.bytes.count else { return false }
        let expected = UnsafeRawBufferPointer(start: literal.utf8Start, count: count)
        return self.bytes[index..<(index + count)].elementsEqual(expected)
    }

    private func skipWhitespace(from index: Int) -> Int {
        var cursor = index
        while let byte = self.byte(at: cursor),
            byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
        {
            cursor += 1
        }
        return cursor
    }

    /// The character (Unicode scalar) offset of a byte offset: Python counts positions in characters.
    private func position(of byteOffset: Int) -> Int {
        let end = min(byteOffset, self.bytes.count)
        var characters = 0
        for index in 0..<end where self.bytes[index] & 0xC0 != 0x80 {
            characters += 1
        }
        return characters + (byteOffset - end)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
