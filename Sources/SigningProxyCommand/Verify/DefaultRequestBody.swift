import Foundation
import SigningProxyVerifier

/// The request `verify exchange` sends when no `--body` is given: the smallest valid request of each
/// signed route, in vLLM's request shapes.
enum DefaultRequestBody {
    static func make(route: SignedRoute, model: String, prompt: String, maxTokens: Int, stream: Bool) throws -> [UInt8] {
        var body: [String: Any] = ["model": model]
        switch route {
        case .chatCompletions:
            body["messages"] = [["role": "user", "content": prompt]]
            body["max_tokens"] = maxTokens
        case .completions:
            body["prompt"] = prompt
            body["max_tokens"] = maxTokens
        case .responses:
            body["input"] = prompt
            body["max_output_tokens"] = maxTokens
        case .messages:
            body["messages"] = [["role": "user", "content": prompt]]
            body["max_tokens"] = maxTokens
        case .embeddings, .pooling, .classify:
            body["input"] = prompt
        case .rerank:
            body["query"] = prompt
            body["documents"] = [prompt, "Something else."]
        case .score:
            body["text_1"] = prompt
            body["text_2"] = "Something else."
        }
        if stream { body["stream"] = true }
        return Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}
