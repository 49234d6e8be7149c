import NIOHTTP1

/// The allow-list of vLLM routes the proxy serves (docs/API.md, Routes). Anything not here, vLLM's
/// administrative routes included (loading, sleeping, scaling, cache resets), is never forwarded.
enum RouteTable {
    /// Routes with a fixed path, by path.
    static let fixed: [String: ProxyRoute] = {
        var table: [String: ProxyRoute] = [:]
        func add(_ path: String, _ route: ProxyRoute) { table[path] = route }
        add("/v1/chat/completions", ProxyRoute(.POST, "/v1/chat/completions", answer: .signed(stream: .chat)))
        add("/v1/completions", ProxyRoute(.POST, "/v1/completions", answer: .signed(stream: .chat)))
        add("/v1/responses", ProxyRoute(.POST, "/v1/responses", answer: .signed(stream: .responses)))
        add("/v1/messages", ProxyRoute(.POST, "/v1/messages", answer: .signed(stream: .messages), envelope: .anthropic))
        add("/v1/messages/count_tokens", ProxyRoute(.POST, "/v1/messages/count_tokens", answer: .unsigned, envelope: .anthropic))
        for path in ["/v1/embeddings", "/v1/rerank", "/rerank", "/v2/rerank", "/v1/score", "/score", "/pooling", "/classify"] {
            add(path, ProxyRoute(.POST, path, answer: .signed(stream: .chat)))
        }
        for path in ["/tokenize", "/detokenize"] {
            add(path, ProxyRoute(.POST, path, answer: .unsigned))
        }
        // Transcription streams are chat-shaped (`data:` chunks with an id, then `[DONE]`).
        for path in ["/v1/audio/transcriptions", "/v1/audio/translations"] {
            add(path, ProxyRoute(.POST, path, body: .multipart, answer: .signed(stream: .chat), relaysOtherBodies: true))
        }
        return table
    }()

    private static let storedResponses = "/v1/responses/"

    /// The route for a path (query and fragment removed), or nil when vLLM serves nothing there.
    /// - Parameter query: the request's query, with its `?`, forwarded on a retrieval only.
    static func route(path: Substring.UTF8View, query: Substring) -> ProxyRoute? {
        let text = String(Substring(path))
        if let route = fixed[text] { return route }
        // `GET /v1/responses/{id}` and `POST /v1/responses/{id}/cancel`: authenticated pass-through,
        // never signed, so a retrieval can never create or replace a signature.
        guard text.hasPrefix(storedResponses) else { return nil }
        var rest = text.dropFirst(storedResponses.count)
        var cancel = false
        if rest.hasSuffix("/cancel") {
            rest = rest.dropLast("/cancel".count)
            cancel = true
        }
        guard !rest.isEmpty, rest.utf8.allSatisfy(isIDByte) else { return nil }
        if cancel {
            return ProxyRoute(.POST, storedResponses + rest + "/cancel", body: .none, answer: .unsigned)
        }
        return ProxyRoute(.GET, storedResponses + rest + query, body: .none, answer: .unsigned)
    }

    /// Bytes a stored response id may hold (vLLM's are `resp_` and hex): nothing that could change the path.
    private static func isIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
