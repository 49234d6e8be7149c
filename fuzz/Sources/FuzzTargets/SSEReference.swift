import SigningCore

/// The rules of `ChatIDScanner` applied to whole lines at once: the model its byte-at-a-time state
/// machine must match, written from the type's documentation rather than from its code.
struct SSEReference: Equatable {
    /// The id of the first qualifying `data:` line.
    var chatID: [UInt8]?
    /// Offset of the `\n` that ends the line carrying ``chatID``.
    var chatIDLineEnd: Int?
    /// Offset of the `\n` that ends the first `data: [DONE]` line.
    var doneLineEnd: Int?
    /// A `data:` line before `[DONE]` whose payload opens an object with the key `"error"` (after
    /// optional spaces), which leaves the stream unclean.
    var sawError = false

    /// Scans `bytes`; lines longer than `maxLineLength` (without their `\n`) are not examined for the id.
    init(_ bytes: [UInt8], maxLineLength: Int) {
        var lineStart = 0
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            let line = bytes[lineStart..<offset]
            lineStart = offset + 1
            var content = line
            if content.last == UInt8(ascii: "\r") { content.removeLast() }
            guard content.starts(with: Self.dataField) else { continue }
            var payload = content.dropFirst(Self.dataField.count)
            if payload.first == UInt8(ascii: " ") { payload.removeFirst() }
            if doneLineEnd == nil, payload.elementsEqual(Self.doneMarker) {
                doneLineEnd = offset
            }
            if doneLineEnd == nil, payload.first == UInt8(ascii: "{"),
                payload.dropFirst().drop(while: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }).starts(with: Self.errorKey)
            {
                sawError = true
            }
            if chatID == nil, line.count <= maxLineLength,
                let id = payload.withUnsafeBytes({ TopLevelIDExtractor.stringID(in: $0) })
            {
                chatID = Array(id.utf8)
                chatIDLineEnd = offset
            }
        }
    }

    private static let dataField = Array("data:".utf8)
    private static let doneMarker = Array("[DONE]".utf8)
    private static let errorKey = Array("\"error\"".utf8)
}
