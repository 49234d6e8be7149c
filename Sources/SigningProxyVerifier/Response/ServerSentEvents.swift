/// Server-sent events as the WHATWG HTML standard's event-stream parsing defines them: lines end with
/// CRLF, LF or CR; `event` and `data` fields (several `data` lines joined with LF); `:` starts a comment;
/// a blank line dispatches the event. Bytes after the last blank line are an event that was never
/// dispatched: a stream cut there ends early.
struct ServerSentEvents {
    /// One dispatched event.
    struct Event: Sendable, Hashable {
        /// The `event` field, or nil when the event had none (the standard's default `message`).
        var name: String?
        /// The `data` lines joined with LF.
        var data: String
    }

    /// Dispatched events, in order.
    var events: [Event] = []
    /// Whether bytes followed the last dispatched event (an event cut before its blank line).
    var trailingBytes = false

    init(_ bytes: some Collection<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        var name: String?
        var data: [String] = []
        var sawField = false
        var lines: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        // Split by hand: Swift treats "\r\n" as one Character, which is what the standard wants too.
        while index < text.endIndex {
            let character = text[index]
            if character == "\n" || character == "\r" || character == "\r\n" {
                lines.append(text[start..<index])
                index = text.index(after: index)
                start = index
            } else {
                index = text.index(after: index)
            }
        }
        let unterminated = text[start...]
        for line in lines {
            if line.isEmpty {
                // The standard dispatches only events with data.
                if !data.isEmpty { events.append(Event(name: name, data: data.joined(separator: "\n"))) }
                name = nil
                data = []
                sawField = false
                continue
            }
            if line.hasPrefix(":") { continue }
            sawField = true
            let field: Substring
            var value: Substring
            if let colon = line.firstIndex(of: ":") {
                field = line[..<colon]
                value = line[line.index(after: colon)...]
                if value.hasPrefix(" ") { value = value.dropFirst() }
            } else {
                field = line
                value = ""
            }
            switch field {
            case "event": name = String(value)
            case "data": data.append(String(value))
            default: break
            }
        }
        trailingBytes = sawField || !unterminated.isEmpty
    }
}
