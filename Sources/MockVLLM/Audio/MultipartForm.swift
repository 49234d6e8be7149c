import NIOCore

/// A `multipart/form-data` body (RFC 7578) split into its fields, as the audio routes receive it.
struct MultipartForm: Sendable {
    /// One part: its `name`, its `filename` when it is a file, and its bytes.
    struct Part: Sendable {
        var name: String
        var filename: String?
        var content: [UInt8]
    }

    var parts: [Part]

    /// The first part named `name`.
    subscript(name: String) -> Part? {
        self.parts.first { $0.name == name }
    }

    /// The text of field `name` as a JSON value, for the checks shared with JSON routes: an integer when it
    /// reads as one, a boolean for `true`/`false`, a string otherwise.
    func value(_ name: String) -> JSONValue? {
        guard let part = self[name] else { return nil }
        let text = String(decoding: part.content, as: UTF8.self)
        if let number = Int(text) { return .integer(number) }
        switch text.lowercased() {
        case "true": return .bool(true)
        case "false": return .bool(false)
        default: return .string(text)
        }
    }

    /// The boundary parameter of a `multipart/form-data` content type, unquoted.
    static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = String(pair[1])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    /// Splits `body` at `--boundary` lines; nil when the framing is broken (no closing delimiter, a part
    /// without its blank line).
    static func parse(_ body: ByteBuffer, boundary: String) -> MultipartForm? {
        let bytes = Array(body.readableBytesView)
        let delimiter = Array("--\(boundary)".utf8)
        guard var position = Self.find(delimiter, in: bytes, from: 0) else { return nil }
        var parts: [Part] = []
        while true {
            position += delimiter.count
            if bytes[position...].starts(with: Array("--".utf8)) { return MultipartForm(parts: parts) }
            guard bytes[position...].starts(with: [0x0D, 0x0A]) else { return nil }
            position += 2
            guard let headEnd = Self.find([0x0D, 0x0A, 0x0D, 0x0A], in: bytes, from: position) else { return nil }
            let head = String(decoding: bytes[position..<headEnd], as: UTF8.self)
            let contentStart = headEnd + 4
            guard let next = Self.find([0x0D, 0x0A] + delimiter, in: bytes, from: contentStart) else { return nil }
            var part = Part(name: "", filename: nil, content: Array(bytes[contentStart..<next]))
            for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                part.name = Self.parameter("name", in: line) ?? ""
                part.filename = Self.parameter("filename", in: line)
            }
            parts.append(part)
            position = next + 2
        }
    }

    /// The quoted (or bare) value of `name=` in a header line.
    private static func parameter(_ name: String, in line: Substring) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let pair = piece.trimmingCharacters(in: " \t").split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            var value = String(pair[1])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// The text without leading and trailing characters of `characters` (no Foundation needed).
    fileprivate func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return String(slice)
    }
}
