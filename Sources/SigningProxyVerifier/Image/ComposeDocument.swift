/// A docker-compose file read as far as an image pin needs: the block mappings down to `services.<name>.image`.
///
/// Compose files are written in block-style YAML. This reader takes that subset and refuses what it cannot read
/// with certainty instead of guessing, because a verifier that guesses can be shown one image while
/// docker-compose runs another: duplicate keys (PyYAML keeps the last), tabs, several documents and flow-style
/// documents are errors; sequences, block scalars, flow collections, multi-line scalars and values with anchors,
/// aliases or tags are kept as ``ComposeNode/unread(what:)``, and a mapping with a merge key (`<<`) is reported by
/// ``mergeKey``.
struct ComposeDocument: Sendable {
    /// The top-level mapping.
    let root: ComposeNode

    /// One significant line: indentation, text without the comment, 1-based number.
    private struct Line {
        var number: Int
        var indent: Int
        var text: String

        var isSequenceItem: Bool { text == "-" || text.hasPrefix("- ") }
    }

    init(yaml text: String) throws(ComposeReadError) {
        let lines = try Self.significantLines(text)
        guard let first = lines.first else {
            throw .notMapping(line: 1)
        }
        if first.text.hasPrefix("{") || first.text.hasPrefix("[") {
            throw .flowDocument(line: first.number)
        }
        var parser = Parser(lines: lines)
        guard first.indent == 0, !first.isSequenceItem else { throw .notMapping(line: first.number) }
        root = try parser.mapping(indent: 0)
        if parser.index < lines.count {
            throw .indentation(line: lines[parser.index].number)
        }
    }

    /// The service mapping `services.<name>`, or nil when there is no such service.
    func service(_ name: String) -> ComposeNode? {
        root.value("services")?.value(name)
    }

    /// The key `<<` of a mapping: YAML's merge key, which can supply keys this reader does not see.
    static let mergeKey = "<<"

    // MARK: Lines

    /// Lines without blank lines, comment-only lines and comments; document markers and directives checked.
    private static func significantLines(_ text: String) throws(ComposeReadError) -> [Line] {
        var result: [Line] = []
        var sawContent = false
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if number == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            let indentation = line.prefix { $0 == " " || $0 == "\t" }
            let body = line.dropFirst(indentation.count)
            let content = stripComment(body)
            if content.isEmpty { continue }
            if indentation.contains("\t") { throw .tab(line: number) }
            if indentation.isEmpty {
                if content == "---" || content.hasPrefix("--- ") {
                    if sawContent { throw .documents(line: number) }
                    continue
                }
                if content == "..." { continue }
                if content.hasPrefix("%") { throw .directive(line: number) }
            }
            sawContent = true
            result.append(Line(number: number, indent: indentation.count, text: String(content)))
        }
        return result
    }

    /// The text before a comment: `#` at the start or after whitespace, outside quotes that open a token.
    private static func stripComment(_ text: Substring) -> Substring {
        var quote: Character?
        var previous: Character = " "
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    index = text.index(after: index)
                    if index == text.endIndex { break }
                }
            } else if character == "#" && (previous == " " || previous == "\t") {
                return trimTrailing(text[..<index])
            } else if (character == "\"" || character == "'") && " \t:-[{,".contains(previous) {
                quote = character
            }
            previous = character
            index = text.index(after: index)
        }
        return trimTrailing(text)
    }

    private static func trimTrailing(_ text: Substring) -> Substring {
        var end = text.endIndex
        while end > text.startIndex, text[text.index(before: end)] == " " || text[text.index(before: end)] == "\t" {
            end = text.index(before: end)
        }
        return text[..<end]
    }

    // MARK: Parser

    private struct Parser {
        let lines: [Line]
        var index = 0

        /// A block mapping whose keys sit at `indent`.
        mutating func mapping(indent: Int) throws(ComposeReadError) -> ComposeNode {
            var entries: [(key: String, value: ComposeNode)] = []
            while index < lines.count, lines[index].indent == indent {
                let line = lines[index]
                if line.isSequenceItem { throw .sequenceItem(line: line.number) }
                let (key, rest) = try Self.splitKey(line)
                if entries.contains(where: { $0.key == key }) { throw .duplicateKey(key, line: line.number) }
                index += 1
                entries.append((key, try value(rest, keyIndent: indent, line: line)))
            }
            if index < lines.count, lines[index].indent > indent {
                throw .indentation(line: lines[index].number)
            }
            return .mapping(entries)
        }

        /// The value after `key:` on `line`, with the lines that belong to it.
        private mutating func value(_ rest: Substring, keyIndent: Int, line: Line) throws(ComposeReadError) -> ComposeNode {
            guard let first = rest.first else {
                guard index < lines.count else { return .empty }
                let next = lines[index]
                if next.indent > keyIndent {
                    if next.isSequenceItem {
                        skipDeeper(than: keyIndent, sequenceAt: nil)
                        return .unread(what: "a sequence")
                    }
                    return try mapping(indent: next.indent)
                }
                if next.indent == keyIndent, next.isSequenceItem {
                    skipDeeper(than: keyIndent, sequenceAt: keyIndent)
                    return .unread(what: "a sequence")
                }
                return .empty
            }
            let unread: String?
            switch first {
            case "|", ">": unread = "a block scalar"
            case "[", "{": unread = "a flow collection"
            case "&", "*", "!": unread = "a value with an anchor, alias or tag"
            default: unread = nil
            }
            if let unread {
                skipDeeper(than: keyIndent, sequenceAt: nil)
                return .unread(what: unread)
            }
            let scalar: String
            if first == "\"" || first == "'" {
                guard let text = Self.quoted(rest) else {
                    if index < lines.count, lines[index].indent > keyIndent {
                        skipDeeper(than: keyIndent, sequenceAt: nil)
                        return .unread(what: "a multi-line quoted scalar")
                    }
                    throw .quote(line: line.number)
                }
                scalar = text
            } else {
                scalar = String(rest)
            }
            if index < lines.count, lines[index].indent > keyIndent {
                skipDeeper(than: keyIndent, sequenceAt: nil)
                return .unread(what: "a multi-line scalar")
            }
            return .scalar(scalar)
        }

        /// Skips the lines indented deeper than `indent` (and, for a sequence at the key's indentation, its items).
        private mutating func skipDeeper(than indent: Int, sequenceAt: Int?) {
            while index < lines.count {
                let line = lines[index]
                if line.indent > indent || (line.indent == sequenceAt && line.isSequenceItem) {
                    index += 1
                } else {
                    return
                }
            }
        }

        /// `key: rest` or `key:`; plain, single- or double-quoted keys.
        private static func splitKey(_ line: Line) throws(ComposeReadError) -> (String, Substring) {
            let text = Substring(line.text)
            guard let first = text.first else { throw .badKey(line: line.number) }
            let key: String
            var after: Substring
            if first == "\"" || first == "'" {
                guard let end = closingQuote(text), let decoded = quoted(text[...end]) else { throw .badKey(line: line.number) }
                key = decoded
                after = text[text.index(after: end)...]
                guard after.first == ":" else { throw .badKey(line: line.number) }
                after = after.dropFirst()
            } else {
                if "?-&*![]{}|>%@`,".contains(first) {
                    throw .badKey(line: line.number)
                }
                var separator: Substring.Index?
                var index = text.startIndex
                while index < text.endIndex {
                    if text[index] == ":" {
                        let next = text.index(after: index)
                        if next == text.endIndex || text[next] == " " {
                            separator = index
                            break
                        }
                    }
                    index = text.index(after: index)
                }
                guard let separator else { throw .badKey(line: line.number) }
                key = String(trimTrailing(text[..<separator]))
                after = text[text.index(after: separator)...]
            }
            guard after.isEmpty || after.first == " " else { throw .badKey(line: line.number) }
            return (key, after.drop { $0 == " " })
        }

        /// The index of the quote closing the one `text` starts with.
        private static func closingQuote(_ text: Substring) -> Substring.Index? {
            guard let open = text.first else { return nil }
            var index = text.index(after: text.startIndex)
            while index < text.endIndex {
                let character = text[index]
                if open == "\"" && character == "\\" {
                    index = text.index(after: index)
                    if index == text.endIndex { return nil }
                } else if character == open {
                    let next = text.index(after: index)
                    // '' inside single quotes is an escaped quote.
                    if open == "'" && next < text.endIndex && text[next] == "'" {
                        index = next
                    } else {
                        return index
                    }
                }
                index = text.index(after: index)
            }
            return nil
        }

        /// The value of a quoted scalar that is all of `text`; nil when it is not closed there or uses an escape
        /// other than `\"`, `\\` and `\/` (an image reference needs none).
        static func quoted(_ text: Substring) -> String? {
            guard let open = text.first, let end = closingQuote(text), text.index(after: end) == text.endIndex else {
                return nil
            }
            let inner = text[text.index(after: text.startIndex)..<end]
            if open == "'" { return String(inner.replacing("''", with: "'")) }
            var result = ""
            var escaped = false
            for character in inner {
                if escaped {
                    guard "\"\\/".contains(character) else { return nil }
                    result.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else {
                    result.append(character)
                }
            }
            return result
        }
    }
}
