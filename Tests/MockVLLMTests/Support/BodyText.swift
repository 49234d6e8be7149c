/// Byte-level helpers for comparing response bodies whose ids and timestamps differ per request.
enum BodyText {
    /// Replaces the random parts vLLM varies per response (16 hex digits after `chatcmpl-`, `cmpl-` and
    /// `modelperm-`, and the digits of `"created":`) with fixed placeholders.
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        let idPrefixes = ["\"chatcmpl-", "\"cmpl-", "\"modelperm-"].map { Array($0.utf8) }
        let created = Array("\"created\":".utf8)
        outer: while index < bytes.count {
            for prefix in idPrefixes where bytes[index...].starts(with: prefix) {
                output += prefix + Array("################".utf8)
                index += prefix.count + 16
                continue outer
            }
            if bytes[index...].starts(with: created) {
                output += created + [UInt8(ascii: "0")]
                index += created.count
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }

    /// Replaces the value of every `"text":"…"` string with `…` (completion streams differ in their last token).
    static func blankingTexts(_ bytes: [UInt8]) -> [UInt8] {
        let key = Array("\"text\":\"".utf8)
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index...].starts(with: key) {
                output += key + Array("…".utf8)
                index += key.count
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }

    /// The payloads of the `data: ` events of an SSE body, in order; nil if the body is not a sequence of
    /// `data: <payload>\n\n` events.
    static func events(_ bytes: [UInt8]) -> [String]? {
        var events: [String] = []
        var index = 0
        let prefix = Array("data: ".utf8)
        while index < bytes.count {
            guard bytes[index...].starts(with: prefix) else { return nil }
            var end = index + prefix.count
            while end + 1 < bytes.count, !(bytes[end] == 0x0A && bytes[end + 1] == 0x0A) { end += 1 }
            guard end + 1 < bytes.count else { return nil }
            events.append(String(decoding: bytes[(index + prefix.count)..<end], as: UTF8.self))
            index = end + 2
        }
        return events
    }

    /// The string after `"id":"` in an event payload.
    static func id(of payload: String) -> String? {
        guard let start = payload.range(of: #""id":""#) else { return nil }
        let rest = payload[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<end])
    }

    /// Whether `id` is `prefix` followed by 16 lowercase hex digits.
    static func isVLLMID(_ id: String, prefix: String) -> Bool {
        guard id.hasPrefix(prefix) else { return false }
        let digits = id.dropFirst(prefix.count)
        return digits.count == 16 && digits.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
}
