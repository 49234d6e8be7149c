import NIOHTTP1
import SigningCore

/// One of vLLM's client-facing routes as the proxy serves it (docs/API.md, Routes): what the request
/// may carry, how the answer is read, and whether it is signed.
struct ProxyRoute: Sendable, Equatable {
    /// What the request body must be; it is forwarded and hashed exactly as received.
    enum Body: Sendable, Hashable {
        /// No body: one announced is refused before a byte of it is read.
        case none
        /// A JSON object.
        case json
        /// `multipart/form-data` (audio uploads); vLLM parses it, the proxy only forwards it.
        case multipart
    }

    /// How a successful answer is read for its id and its clean end.
    enum Answer: Sendable, Hashable {
        /// Signed: a JSON answer by its top-level `id`, a stream by its grammar.
        case signed(stream: StreamingExchange.Grammar)
        /// Relayed as is, never signed (tokenizer, stored-response retrieval).
        case unsigned
    }

    /// The error shape the route's clients parse (docs/API.md, Errors).
    enum Envelope: Sendable, Hashable {
        case openAI
        case anthropic
    }

    let method: HTTPMethod
    /// The path sent to vLLM (below `VLLM_BASE_URL`'s path), with the query for a retrieval.
    let upstreamPath: String
    let body: Body
    let answer: Answer
    let envelope: Envelope
    /// A 200 that is neither JSON nor SSE is relayed unsigned with its content type (audio's text formats).
    let relaysOtherBodies: Bool

    init(
        _ method: HTTPMethod, _ upstreamPath: String, body: Body = .json, answer: Answer, envelope: Envelope = .openAI,
        relaysOtherBodies: Bool = false
    ) {
        self.method = method
        self.upstreamPath = upstreamPath
        self.body = body
        self.answer = answer
        self.envelope = envelope
        self.relaysOtherBodies = relaysOtherBodies
    }

    var isSigned: Bool {
        if case .signed = answer { return true }
        return false
    }

    /// The grammar a streamed answer is read with.
    var streamGrammar: StreamingExchange.Grammar {
        if case .signed(let grammar) = answer { return grammar }
        return .unsigned
    }
}
