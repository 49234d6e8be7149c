/// Request bytes, written by hand so that malformed and smuggling-shaped ones are as easy as good ones.
enum RawRequest {
    /// A completion request body for the mock: `content` makes it unique, the mock-only fields ask for
    /// per-request faults (honoured by `mock-vllm --request-faults`).
    static func completionBody(
        content: String, stream: Bool, maxTokens: Int, failAfter: Int? = nil, delayMs: Int? = nil, headerDelayMs: Int? = nil
    ) -> [UInt8] {
        var json = #"{"model":"tiny","messages":[{"role":"user","content":"\#(content)"}],"stream":\#(stream),"max_tokens":\#(maxTokens)"#
        if let failAfter { json += #","mock_fail_after":\#(failAfter)"# }
        if let delayMs { json += #","mock_delay_ms":\#(delayMs)"# }
        if let headerDelayMs { json += #","mock_header_delay_ms":\#(headerDelayMs)"# }
        json += "}"
        return Array(json.utf8)
    }

    /// `POST path` with a JSON body and the token; `close` adds `Connection: close`; `http10` sends
    /// HTTP/1.0 (no keep-alive).
    static func post(
        _ path: String = "/v1/chat/completions", body: [UInt8], token: String?, close: Bool = false, http10: Bool = false,
        extraHeaders: [String] = []
    ) -> [UInt8] {
        var head = "POST \(path) HTTP/\(http10 ? "1.0" : "1.1")\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if close { head += "Connection: close\r\n" }
        for header in extraHeaders { head += header + "\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// `GET path`, with the token when given.
    static func get(_ path: String, token: String?, close: Bool = false, extraHeaders: [String] = []) -> [UInt8] {
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if close { head += "Connection: close\r\n" }
        for header in extraHeaders { head += header + "\r\n" }
        return Array((head + "\r\n").utf8)
    }

    /// Text with CRLF line ends written as `\n` for readability.
    static func text(_ lines: String) -> [UInt8] {
        Array(lines.replacing("\n", with: "\r\n").utf8)
    }
}
