import E2EE

extension ProxyRoute {
    /// The endpoint as the E2EE dialects name what they cover (docs/E2EE.md, "Which fields").
    var e2eeEndpoint: E2EEEndpoint {
        switch upstreamPath {
        case "/v1/chat/completions": .chatCompletions
        case "/v1/completions": .completions
        case "/v1/embeddings": .embeddings
        case "/v1/rerank", "/rerank", "/v2/rerank": .rerank
        case "/v1/score", "/score": .score
        case "/v1/responses": .responses
        case "/v1/messages": .messages
        default: .other
        }
    }
}
