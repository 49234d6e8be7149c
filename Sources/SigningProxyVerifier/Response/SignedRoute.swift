/// A route whose answers signing-proxy signs (docs/API.md), and how its answer is read.
///
/// Aliases vLLM serves under other paths (`/rerank`, `/v2/rerank`, `/score`) read like their `/v1` route.
public enum SignedRoute: String, Sendable, Hashable, CaseIterable {
    /// `POST /v1/chat/completions`: JSON, or SSE `data:` events ending with `data: [DONE]`.
    case chatCompletions = "/v1/chat/completions"
    /// `POST /v1/completions`: like chat completions.
    case completions = "/v1/completions"
    /// `POST /v1/responses` (OpenAI Responses API): JSON, or SSE named events, id `response.id` in the first
    /// event, ending with `response.completed` or `response.incomplete`.
    case responses = "/v1/responses"
    /// `POST /v1/messages` (Anthropic Messages API): JSON, or SSE named events, id `message.id` in
    /// `message_start`, ending with `message_stop`.
    case messages = "/v1/messages"
    /// `POST /v1/embeddings`: JSON with a top-level `id`.
    case embeddings = "/v1/embeddings"
    /// `POST /v1/rerank` (also `/rerank`, `/v2/rerank`): JSON with a top-level `id`.
    case rerank = "/v1/rerank"
    /// `POST /v1/score` (also `/score`): JSON with a top-level `id`.
    case score = "/v1/score"
    /// `POST /pooling`: JSON with a top-level `id`.
    case pooling = "/pooling"
    /// `POST /classify`: JSON with a top-level `id`.
    case classify = "/classify"

    /// The route served at `path` (exact, without query or trailing slash), or nil for a path that is not signed.
    public init?(path: String) {
        switch path {
        case "/rerank", "/v2/rerank": self = .rerank
        case "/score": self = .score
        default: self.init(rawValue: path)
        }
    }

    /// The path of the route (the `/v1` form for aliases).
    public var path: String { rawValue }

    /// Whether the route answers a streamed (SSE) form when the request asks for `"stream": true`.
    public var streams: Bool {
        switch self {
        case .chatCompletions, .completions, .responses, .messages: true
        case .embeddings, .rerank, .score, .pooling, .classify: false
        }
    }
}
