/// What `--echo` answers with: the prompt's text, split into pieces that become the answer's deltas.
///
/// The text is the last `user` message's `content` for chat (a string, or its parts' `text` joined), and
/// `prompt` for completions (a string, or its strings joined). A chat request's first `system` message is echoed
/// as the answer's reasoning (``reasoning(of:)``). Pieces are cut at character boundaries and escaped one by one,
/// so no delta splits a UTF-8 sequence or a JSON escape.
enum EchoText {
    /// The escaped pieces of `document`'s prompt text: at most `pieces`, at least one (possibly empty).
    static func pieces(of document: JSONValue, kind: CompletionRequest.Kind, pieces: Int) -> [[UInt8]] {
        Self.split(Self.text(of: document, kind: kind), pieces: pieces)
    }

    /// The first `system` message's text, echoed as reasoning; nil without one.
    static func reasoning(of document: JSONValue) -> String? {
        guard case .array(let messages)? = document["messages"],
            let system = messages.first(where: { $0["role"]?.stringValue == "system" })
        else { return nil }
        return Self.joined(system["content"])
    }

    /// `text` in at most `pieces` escaped pieces, at least one (possibly empty).
    static func split(_ text: String, pieces: Int) -> [[UInt8]] {
        let characters = Array(text)
        let count = max(1, min(pieces, characters.count))
        var output: [[UInt8]] = []
        output.reserveCapacity(count)
        for index in 0..<count {
            let start = characters.count * index / count
            let end = characters.count * (index + 1) / count
            output.append(JSONText.escaped(String(characters[start..<end])))
        }
        return output
    }

    /// The prompt text the mock echoes.
    static func text(of document: JSONValue, kind: CompletionRequest.Kind) -> String {
        switch kind {
        case .chat:
            guard case .array(let messages)? = document["messages"] else { return "" }
            let user = messages.last { $0["role"]?.stringValue == "user" } ?? messages.last
            return Self.joined(user?["content"])
        case .text:
            return Self.joined(document["prompt"])
        }
    }

    /// A string, or the strings (and parts' `text`) of an array, joined.
    private static func joined(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?:
            return text
        case .array(let parts)?:
            return parts.compactMap { $0.stringValue ?? $0["text"]?.stringValue }.joined()
        default:
            return ""
        }
    }
}
