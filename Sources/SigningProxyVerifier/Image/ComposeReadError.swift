/// Why a compose document could not be read with certainty. The description names the line, never a value.
struct ComposeReadError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case tab, documents, directive, flowDocument, notMapping, badKey, duplicateKey, indentation, sequenceItem, quote
    }

    private let code: Code
    let line: Int
    private let detail: String

    private init(_ code: Code, line: Int, _ detail: String) {
        self.code = code
        self.line = line
        self.detail = detail
    }

    var description: String { "line \(line): \(detail)" }

    static func tab(line: Int) -> Self { .init(.tab, line: line, "a tab in the indentation (YAML forbids it)") }
    static func documents(line: Int) -> Self {
        .init(.documents, line: line, "a second YAML document (---); a compose file is one document")
    }
    static func directive(line: Int) -> Self { .init(.directive, line: line, "a YAML directive (%), not supported") }
    static func flowDocument(line: Int) -> Self {
        .init(.flowDocument, line: line, "a flow-style (JSON-like) document; only block-style YAML is read")
    }
    static func notMapping(line: Int) -> Self { .init(.notMapping, line: line, "the document is not a mapping of keys") }
    static func badKey(line: Int) -> Self {
        .init(.badKey, line: line, "expected `key:` or `key: value` (complex keys, anchors and tags on keys are not supported)")
    }
    static func duplicateKey(_ key: String, line: Int) -> Self {
        .init(.duplicateKey, line: line, "duplicate key \"\(key)\" (docker-compose would keep only one of them)")
    }
    static func indentation(line: Int) -> Self { .init(.indentation, line: line, "inconsistent indentation") }
    static func sequenceItem(line: Int) -> Self { .init(.sequenceItem, line: line, "a sequence item where a key was expected") }
    static func quote(line: Int) -> Self { .init(.quote, line: line, "an unterminated or malformed quoted scalar") }
}
