import NIOCore

/// Watches the raw bytes of a Responses or Messages event stream for its id and its terminal event.
///
/// These streams carry `event:` lines and end without `data: [DONE]` (docs/API.md, Routes):
/// - Responses: the id is `response.id`, first carried by `response.created`; `response.completed` and
///   `response.incomplete` end it cleanly; `response.failed` and `error` mark it failed.
/// - Messages: the id is `message.id` in `message_start`; `message_stop` ends it; `error` marks it failed.
///
/// An event's type is its `event:` field, or, without one, the top-level `"type"` of its data (what the
/// SDKs read). Lines end with `\n`; a `\r` before it is ignored; an event is dispatched at a blank line.
/// Memory stays bounded: an `event:` line is kept up to 256 bytes, and an event's data only while the
/// id or the type may still come from it, up to `maxLineLength` bytes; longer ones count as unreadable.
package struct EventStreamScanner: Sendable {
    package enum Dialect: Sendable, Hashable {
        case responses
        case messages
    }

    private let dialect: Dialect
    private let maxLineLength: Int
    package private(set) var id: String?
    /// A clean terminal event was dispatched.
    package private(set) var sawEnd = false
    /// A failure or error event was dispatched: the answer is never signed.
    package private(set) var failed = false

    /// The current line, while it may matter; `skipping` once it cannot.
    private var line: [UInt8] = []
    private var skipping = false
    private var skippedData = false
    /// The event being assembled.
    private var eventName: [UInt8]?
    private var data: [UInt8] = []
    private var dataUnreadable = false
    private var eventHasFields = false

    private static let eventNameLimit = 256

    package init(dialect: Dialect, maxLineLength: Int = 1 << 20) {
        self.dialect = dialect
        self.maxLineLength = max(0, maxLineLength)
    }

    /// Feeds the next bytes; returns whether a clean terminal event was dispatched by this feed.
    package mutating func feed(_ buffer: ByteBuffer) -> Bool {
        buffer.withUnsafeReadableBytes { feed($0) }
    }

    package mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let endedBefore = sawEnd
        LineSplitter.split(bytes) { piece in
            switch piece {
            case .part(let part): consumePart(part)
            case .end: finishLine()
            }
        }
        return sawEnd && !endedBefore
    }

    /// Whether the current event's data may still be needed.
    private var wantsData: Bool { id == nil || eventName == nil }

    private mutating func consumePart(_ part: UnsafeRawBufferPointer) {
        guard !skipping, part.count > 0 else { return }
        line.append(contentsOf: part)
        // Decide as soon as the field name is known whether the line is worth keeping.
        if line.starts(with: Self.eventField) {
            if line.count > Self.eventField.count + Self.eventNameLimit + 1 { skip() }
        } else if line.starts(with: Self.dataField) {
            if !wantsData || line.count > maxLineLength + 1 { skip(data: true) }
        } else if line.count >= Self.dataField.count, !Self.eventField.starts(with: line.prefix(Self.eventField.count)) {
            // A comment or another field: nothing in it matters, but it is not a blank line.
            skip()
        }
    }

    private mutating func skip(data: Bool = false) {
        skipping = true
        skippedData = data
        line.removeAll(keepingCapacity: true)
    }

    private mutating func finishLine() {
        defer {
            line.removeAll(keepingCapacity: true)
            skipping = false
            skippedData = false
        }
        if skipping {
            eventHasFields = true
            if skippedData { dataUnreadable = true }
            return
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.isEmpty {
            dispatch()
            return
        }
        eventHasFields = true
        if line.starts(with: Self.eventField) {
            eventName = Array(Self.value(of: line, field: Self.eventField))
        } else if line.starts(with: Self.dataField) {
            if !data.isEmpty { data.append(0x0A) }
            data.append(contentsOf: Self.value(of: line, field: Self.dataField))
        }
    }

    /// The field's value: after the colon, less one optional space.
    private static func value(of line: [UInt8], field: [UInt8]) -> ArraySlice<UInt8> {
        var value = line[field.count...]
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        return value
    }

    private mutating func dispatch() {
        defer {
            eventName = nil
            data.removeAll(keepingCapacity: false)
            dataUnreadable = false
            eventHasFields = false
        }
        guard eventHasFields else { return }
        let readable = !dataUnreadable && !data.isEmpty
        if id == nil, readable {
            id = data.withUnsafeBytes { TopLevelIDExtractor.string(at: idPath, in: $0) }
        }
        let type: [UInt8]?
        if let eventName {
            type = eventName
        } else if readable {
            type = data.withUnsafeBytes { TopLevelIDExtractor.string(at: Self.typePath, in: $0) }.map { Array($0.utf8) }
        } else {
            type = nil
        }
        guard let type else { return }
        switch dialect {
        case .responses:
            if type.elementsEqual("response.completed".utf8) || type.elementsEqual("response.incomplete".utf8) {
                sawEnd = true
            } else if type.elementsEqual("response.failed".utf8) || type.elementsEqual("error".utf8) {
                failed = true
            }
        case .messages:
            if type.elementsEqual("message_stop".utf8) {
                sawEnd = true
            } else if type.elementsEqual("error".utf8) {
                failed = true
            }
        }
    }

    private var idPath: [[UInt8]] {
        switch dialect {
        case .responses: Self.responseIDPath
        case .messages: Self.messageIDPath
        }
    }

    private static let eventField = Array("event:".utf8)
    private static let dataField = Array("data:".utf8)
    private static let typePath = [Array("type".utf8)]
    private static let responseIDPath = [Array("response".utf8), Array("id".utf8)]
    private static let messageIDPath = [Array("message".utf8), Array("id".utf8)]
}
