import NIOCore

/// Watches the raw bytes of a streamed (SSE) completion for the chat id and the `data: [DONE]` line.
///
/// Feed it the upstream body in whatever chunks arrive; it is a state machine over bytes, not a JSON
/// parser of chunks, so events split across chunks or packed into one chunk are handled alike.
///
/// - Lines end with `\n`; a `\r` before it is ignored. A `data:` field may be followed by one optional
///   space (SSE strips exactly one), so `data: X` and `data:X` both carry `X`.
/// - `chatID` is the `id` of the first `data:` line whose payload is a JSON object with a top-level
///   non-empty string `id` (rules and escape decoding in `TopLevelIDExtractor`). Data lines that do
///   not qualify are passed over and the search goes on.
/// - `sawDone` becomes true when a line `data: [DONE]` (or `data:[DONE]`, optionally with a trailing
///   `\r`) is complete, that is once its `\n` has been fed.
///
/// Memory stays bounded: only a line that may still carry the id is buffered (a `data:` line, at most
/// `maxLineLength` bytes; longer lines are skipped for the id). Once the id is known nothing is
/// buffered; `[DONE]` is then recognised with a few bytes of prefix state while each chunk is searched
/// for newlines with ``LineSplitter``, without allocating.
package struct ChatIDScanner: Sendable {
    /// What became true during one `feed`.
    package struct Event: OptionSet, Sendable, Hashable {
        package let rawValue: UInt8

        package init(rawValue: UInt8) {
            self.rawValue = rawValue
        }

        /// `chatID` was found.
        package static let foundChatID = Event(rawValue: 1 << 0)
        /// The `data: [DONE]` line was completed.
        package static let foundDone = Event(rawValue: 1 << 1)
    }

    private let maxLineLength: Int
    package private(set) var chatID: String?
    package private(set) var sawDone = false
    /// A `data:` line before `[DONE]` carried an error object (`{"error": …}`), which is how vLLM
    /// reports a failure mid-stream before it still sends `[DONE]`: the answer is not clean.
    package private(set) var sawError = false

    /// The current line's bytes, while it may still carry the id (empty otherwise).
    private var line: [UInt8] = []
    /// Whether the current line has been ruled out for the id (not `data:`, or too long).
    private var skippingLine = false
    /// Progress of the current line against `data: [DONE]`.
    private var doneMatch = DoneMatch.field(0)
    /// Progress of the current line against `data: {"error"`.
    private var errorMatch = ErrorMatch.field(0)

    /// Creates a scanner.
    /// - Parameter maxLineLength: longest line, in bytes without its `\n`, examined for the id.
    package init(maxLineLength: Int = 1 << 20) {
        self.maxLineLength = max(0, maxLineLength)
    }

    /// Bytes held for the current line (for tests and diagnostics).
    package var bufferedByteCount: Int { line.count }

    /// Feeds the next bytes of the stream; returns what this feed completed.
    package mutating func feed(_ buffer: ByteBuffer) -> Event {
        buffer.withUnsafeReadableBytes { feed($0) }
    }

    /// Feeds the next bytes of the stream; returns what this feed completed.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Event {
        guard !bytes.isEmpty else { return [] }
        // Nothing left to learn once both are known.
        if sawDone && chatID != nil { return [] }
        var events: Event = []
        LineSplitter.split(bytes) { piece in
            switch piece {
            case .part(let part): consumePartOfLine(part)
            case .end: events.formUnion(finishLine())
            }
        }
        return events
    }

    // MARK: Lines

    /// Takes bytes of the current line (no `\n` among them).
    private mutating func consumePartOfLine(_ part: UnsafeRawBufferPointer) {
        if !doneMatch.isMismatch {
            var index = 0
            while index < part.count && !doneMatch.isMismatch {
                doneMatch.advance(part[index])
                index += 1
            }
        }
        if !sawDone, errorMatch.isOpen {
            var index = 0
            while index < part.count && errorMatch.isOpen {
                errorMatch.advance(part[index])
                index += 1
            }
        }
        guard chatID == nil, !skippingLine else { return }
        guard line.count + part.count <= maxLineLength else {
            // Too long to examine; drop what was held so memory does not grow with the line.
            skippingLine = true
            line = []
            return
        }
        line.append(contentsOf: part)
        if line.count >= Self.dataField.count && !line.starts(with: Self.dataField) {
            skippingLine = true
            line.removeAll(keepingCapacity: true)
        }
    }

    /// Handles the end of the current line and resets the per-line state.
    private mutating func finishLine() -> Event {
        var events: Event = []
        if doneMatch.isComplete && !sawDone {
            sawDone = true
            events.insert(.foundDone)
        }
        doneMatch = .field(0)
        if case .matched = errorMatch, !sawDone { sawError = true }
        errorMatch = .field(0)
        if chatID == nil && !skippingLine, let id = Self.chatID(inLine: line) {
            chatID = id
            events.insert(.foundChatID)
        }
        if chatID == nil {
            line.removeAll(keepingCapacity: true)
        } else {
            // Never needed again: give the memory back.
            line = []
        }
        skippingLine = false
        return events
    }

    private static let dataField: [UInt8] = Array("data:".utf8)

    /// The id carried by a complete line, if it is a `data:` line with a qualifying payload.
    private static func chatID(inLine line: [UInt8]) -> String? {
        line.withUnsafeBytes { bytes -> String? in
            guard bytes.starts(with: dataField) else { return nil }
            var start = dataField.count
            var end = bytes.count
            if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            if start < end && bytes[start] == UInt8(ascii: " ") { start += 1 }
            return TopLevelIDExtractor.stringID(in: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
    }
}

// MARK: - `data: [DONE]` matching

extension ChatIDScanner {
    /// How much of `data:` + optional space + `[DONE]` + optional `\r` the current line has matched.
    private enum DoneMatch: Sendable {
        /// Matched this many bytes of `data:`.
        case field(Int)
        /// Matched this many bytes of `[DONE]` (after `data:` and its optional space).
        case marker(Int)
        /// Matched `[DONE]` and a `\r`.
        case carriageReturn
        /// The line is something else.
        case mismatch

        private static let field: [UInt8] = Array("data:".utf8)
        private static let marker: [UInt8] = Array("[DONE]".utf8)

        var isMismatch: Bool {
            if case .mismatch = self { true } else { false }
        }

        /// Whether a line ending here is a `[DONE]` line.
        var isComplete: Bool {
            switch self {
            case .marker(let count): count == Self.marker.count
            case .carriageReturn: true
            case .field, .mismatch: false
            }
        }

        mutating func advance(_ byte: UInt8) {
            switch self {
            case .field(let count) where count < Self.field.count:
                self = byte == Self.field[count] ? .field(count + 1) : .mismatch
            case .field:
                // Right after `data:`: one optional space, then the marker.
                if byte == UInt8(ascii: " ") {
                    self = .marker(0)
                } else {
                    self = byte == Self.marker[0] ? .marker(1) : .mismatch
                }
            case .marker(let count) where count < Self.marker.count:
                self = byte == Self.marker[count] ? .marker(count + 1) : .mismatch
            case .marker:
                self = byte == UInt8(ascii: "\r") ? .carriageReturn : .mismatch
            case .carriageReturn, .mismatch:
                self = .mismatch
            }
        }
    }
}

// MARK: - `data: {"error"` matching

extension ChatIDScanner {
    /// How much of `data:` + optional space + `{` + optional spaces + `"error"` the current line has matched.
    private enum ErrorMatch: Sendable {
        case field(Int)
        /// After `data:`: an optional space, then `{`.
        case brace(spaceSeen: Bool)
        /// After `{`: spaces, then the key.
        case key(Int)
        case matched
        case mismatch

        private static let field: [UInt8] = Array("data:".utf8)
        private static let key: [UInt8] = Array("\"error\"".utf8)

        /// Whether more bytes can still change the verdict.
        var isOpen: Bool {
            switch self {
            case .matched, .mismatch: false
            default: true
            }
        }

        mutating func advance(_ byte: UInt8) {
            switch self {
            case .field(let count) where count < Self.field.count:
                self = byte == Self.field[count] ? .field(count + 1) : .mismatch
            case .field:
                self = .brace(spaceSeen: false)
                advance(byte)
            case .brace(let spaceSeen):
                if byte == UInt8(ascii: " ") && !spaceSeen {
                    self = .brace(spaceSeen: true)
                } else {
                    self = byte == UInt8(ascii: "{") ? .key(0) : .mismatch
                }
            case .key(0) where byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t"):
                break
            case .key(let count):
                guard byte == Self.key[count] else {
                    self = .mismatch
                    return
                }
                self = count + 1 == Self.key.count ? .matched : .key(count + 1)
            case .matched, .mismatch:
                break
            }
        }
    }
}
