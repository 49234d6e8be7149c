import NIOCore
import NIOHTTP1

/// One kind of request a load worker sends, ready to write (the head and body are built once).
struct RequestSpec: Sendable {
    let head: HTTPRequestHead
    let body: ByteBuffer?

    /// `POST path` with a JSON body and the bench token.
    static func post(_ path: String, json: String, token: String) -> RequestSpec {
        let body = ByteBuffer(string: json)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        head.headers.add(name: "Authorization", value: "Bearer \(token)")
        return RequestSpec(head: head, body: body)
    }

    /// `GET path` with the bench token.
    static func get(_ path: String, token: String) -> RequestSpec {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Authorization", value: "Bearer \(token)")
        return RequestSpec(head: head, body: nil)
    }

    /// `POST path` with a JSON body and the bench token as `x-api-key`, as Anthropic SDKs send it.
    static func postAnthropic(_ path: String, json: String, token: String) -> RequestSpec {
        let body = ByteBuffer(string: json)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.readableBytes))
        head.headers.add(name: "x-api-key", value: token)
        head.headers.add(name: "anthropic-version", value: "2023-06-01")
        return RequestSpec(head: head, body: body)
    }

    /// A Responses API request (`POST /v1/responses`) for the mock's model, streamed or not.
    static func responses(stream: Bool, token: String) -> RequestSpec {
        .post("/v1/responses", json: #"{"model":"tiny","input":"hello","stream":\#(stream)}"#, token: token)
    }

    /// An Anthropic Messages request (`POST /v1/messages`), streamed or not. `max_tokens` is required there;
    /// `maxTokens` is set at or above the mock's configured count, so the mock generates all of them.
    static func messages(stream: Bool, maxTokens: Int, token: String) -> RequestSpec {
        .postAnthropic(
            "/v1/messages",
            json: #"{"model":"tiny","max_tokens":\#(maxTokens),"messages":[{"role":"user","content":"hello"}],"stream":\#(stream)}"#,
            token: token
        )
    }

    /// A chat completion for the mock's model, streamed or not.
    static func chat(stream: Bool, maxTokens: Int? = nil, token: String) -> RequestSpec {
        let limit = maxTokens.map { #","max_tokens":\#($0)"# } ?? ""
        return .post(
            "/v1/chat/completions",
            json: #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"stream":\#(stream)\#(limit)}"#,
            token: token
        )
    }
}
