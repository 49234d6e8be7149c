/// The OpenAI-style endpoint a request goes to, as far as E2EE cares: each dialect covers some of them
/// (docs/E2EE.md, "Which fields").
package enum E2EEEndpoint: Sendable, Equatable {
    case chatCompletions
    case completions
    case embeddings
    case rerank
    case score
    case responses
    case messages
    case other
}
