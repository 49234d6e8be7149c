/// The shape of a compact JSON text with its values blanked, to compare the mock's answers with vLLM's
/// recorded ones field by field, in order, byte for byte everywhere except where values vary.
///
/// Keys and literal values (`"object":"response"`, `null`, `true`) are kept; every number becomes `0`, a run
/// of numbers in an array one `0`, and the string values of ``variableKeys`` (ids, texts) `…`.
enum JSONSkeleton {
    /// Keys whose string values differ between two answers of the same shape.
    static let variableKeys: Set<String> = [
        "id", "item_id", "text", "delta", "message", "prompt", "embedding",
    ]

    static func of(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        var lastKey: String?
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                var end = index + 1
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                    end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                let content = Array(bytes[(index + 1)..<min(end, bytes.count)])
                var next = end + 1
                while next < bytes.count, bytes[next] == UInt8(ascii: " ") { next += 1 }
                let isKey = next < bytes.count && bytes[next] == UInt8(ascii: ":")
                if isKey {
                    lastKey = String(decoding: content, as: UTF8.self)
                    output += [UInt8(ascii: "\"")] + content + [UInt8(ascii: "\"")]
                } else if let key = lastKey, Self.variableKeys.contains(key) {
                    output += Array("\"…\"".utf8)
                } else {
                    output += [UInt8(ascii: "\"")] + content + [UInt8(ascii: "\"")]
                }
                index = end + 1
                continue
            }
            if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                var end = index + 1
                while end < bytes.count, Array("0123456789.eE+-".utf8).contains(bytes[end]) { end += 1 }
                if output.suffix(2) == Array("0,".utf8) {
                    output.removeLast()  // a run of numbers: one 0
                } else {
                    output.append(UInt8(ascii: "0"))
                }
                index = end
                continue
            }
            output.append(byte)
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }
}

/// One `event: NAME` / `data: JSON` event of a Responses or Messages stream.
struct NamedSSEEvent: Equatable {
    var name: String
    var data: String

    /// The events of `bytes`; nil unless the whole body is such events, each ending in a blank line.
    static func parse(_ bytes: [UInt8]) -> [NamedSSEEvent]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("\n\n") else { return nil }
        var events: [NamedSSEEvent] = []
        for block in text.dropLast(2).split(separator: "\n\n", omittingEmptySubsequences: false) {
            let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.count == 2, lines[0].hasPrefix("event: "), lines[1].hasPrefix("data: ") else { return nil }
            events.append(NamedSSEEvent(name: String(lines[0].dropFirst(7)), data: String(lines[1].dropFirst(6))))
        }
        return events
    }

    /// The names in order, a run of one name (the deltas) counted once.
    static func collapsedNames(_ events: [NamedSSEEvent]) -> [String] {
        var names: [String] = []
        for event in events where names.last != event.name {
            names.append(event.name)
        }
        return names
    }

    /// The skeleton of the first event of each name.
    static func skeletons(_ events: [NamedSSEEvent]) -> [String: String] {
        var skeletons: [String: String] = [:]
        for event in events where skeletons[event.name] == nil {
            skeletons[event.name] = JSONSkeleton.of(Array(event.data.utf8))
        }
        return skeletons
    }
}
