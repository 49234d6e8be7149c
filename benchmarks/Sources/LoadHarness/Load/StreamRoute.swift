/// The streamed routes compared in the streamed-routes phase: each asks the mock for the same number of
/// tokens, in its own framing (chat `data:` chunks and `[DONE]`; Responses and Messages named events).
enum StreamRoute: String, CaseIterable, Sendable {
    case chat
    case responses
    case messages

    var path: String {
        switch self {
        case .chat: "/v1/chat/completions"
        case .responses: "/v1/responses"
        case .messages: "/v1/messages"
        }
    }

    /// The streamed request to an upstream configured for `tokens` tokens: chat and Responses carry the
    /// token as a Bearer token, Messages as `x-api-key`.
    func request(token: String, tokens: Int) -> RequestSpec {
        switch self {
        case .chat: .chat(stream: true, token: token)
        case .responses: .responses(stream: true, token: token)
        // Messages requires `max_tokens`: one above the configured count, so the mock generates them all and
        // ends with `end_turn`, within mock-vllm's default model length (512).
        case .messages: .messages(stream: true, maxTokens: min(512, tokens + 1), token: token)
        }
    }
}
