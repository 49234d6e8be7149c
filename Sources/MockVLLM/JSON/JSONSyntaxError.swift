/// Why and where a request body is not valid JSON, worded the way Python's `json` module words it.
///
/// vLLM (FastAPI) reports a malformed body with Python's `JSONDecodeError` message and its position,
/// counted in characters (code points), not bytes; the mock reproduces both so its 400 bodies match vLLM's.
struct JSONSyntaxError: Error, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case expectingValue
        case expectingPropertyName
        case expectingColon
        case expectingComma
        case unterminatedString
        case invalidControlCharacter
        case invalidEscape
        case invalidUnicodeEscape
        case extraData
        case nestingTooDeep
    }

    private let code: Code
    /// Byte offset of the error in the parsed bytes.
    let byteOffset: Int
    /// Offset of the error in characters (Unicode scalars), as Python reports it.
    let position: Int

    private init(_ code: Code, byteOffset: Int, position: Int) {
        self.code = code
        self.byteOffset = byteOffset
        self.position = position
    }

    /// Python's message, e.g. `Expecting property name enclosed in double quotes`.
    var reason: String {
        switch self.code {
        case .expectingValue: "Expecting value"
        case .expectingPropertyName: "Expecting property name enclosed in double quotes"
        case .expectingColon: "Expecting ':' delimiter"
        case .expectingComma: "Expecting ',' delimiter"
        case .unterminatedString: "Unterminated string starting at"
        case .invalidControlCharacter: "Invalid control character at"
        case .invalidEscape: "Invalid \\escape"
        case .invalidUnicodeEscape: "Invalid \\uXXXX escape"
        case .extraData: "Extra data"
        case .nestingTooDeep: "Maximum nesting depth exceeded"
        }
    }

    var description: String { "\(self.reason): char \(self.position)" }

    static func expectingValue(byteOffset: Int, position: Int) -> Self {
        .init(.expectingValue, byteOffset: byteOffset, position: position)
    }
    static func expectingPropertyName(byteOffset: Int, position: Int) -> Self {
        .init(.expectingPropertyName, byteOffset: byteOffset, position: position)
    }
    static func expectingColon(byteOffset: Int, position: Int) -> Self {
        .init(.expectingColon, byteOffset: byteOffset, position: position)
    }
    static func expectingComma(byteOffset: Int, position: Int) -> Self {
        .init(.expectingComma, byteOffset: byteOffset, position: position)
    }
    static func unterminatedString(byteOffset: Int, position: Int) -> Self {
        .init(.unterminatedString, byteOffset: byteOffset, position: position)
    }
    static func invalidControlCharacter(byteOffset: Int, position: Int) -> Self {
        .init(.invalidControlCharacter, byteOffset: byteOffset, position: position)
    }
    static func invalidEscape(byteOffset: Int, position: Int) -> Self {
        .init(.invalidEscape, byteOffset: byteOffset, position: position)
    }
    static func invalidUnicodeEscape(byteOffset: Int, position: Int) -> Self {
        .init(.invalidUnicodeEscape, byteOffset: byteOffset, position: position)
    }
    static func extraData(byteOffset: Int, position: Int) -> Self {
        .init(.extraData, byteOffset: byteOffset, position: position)
    }
    static func nestingTooDeep(byteOffset: Int, position: Int) -> Self {
        .init(.nestingTooDeep, byteOffset: byteOffset, position: position)
    }
}
