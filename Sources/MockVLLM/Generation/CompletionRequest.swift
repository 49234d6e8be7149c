import NIOCore

/// The parts of an OpenAI completion request the mock acts on, read and validated the way vLLM does.
struct CompletionRequest: Sendable, Hashable {
    /// Which OpenAI route the request came in on.
    enum Kind: Sendable, Hashable {
        /// `POST /v1/chat/completions`
        case chat
        /// `POST /v1/completions`
        case text
    }

    let kind: Kind
    /// The served model name echoed in responses (vLLM echoes the requested alias).
    let model: String
    let stream: Bool
    /// `stream_options.include_usage`: a final chunk with empty `choices` and `usage`.
    let includeUsage: Bool
    /// Tokens to generate: the configured count, capped by the request's `max_tokens`.
    let completionTokens: Int
    /// A deterministic estimate of the prompt's token count (see ``estimatePromptTokens(_:kind:)``).
    let promptTokens: Int
    /// The mock-only fault fields of the request (``RequestFaults``).
    var faults = RequestFaults()
    /// With `--echo`: the escaped pieces of the prompt text, one per generated token (``EchoText``).
    var echoPieces: [[UInt8]]? = nil
    /// With `--echo`, chat with a `system` message: that text as reasoning, in pieces streamed before the content.
    var echoReasoning: [[UInt8]]? = nil
    /// The reasoning field's name: vLLM 0.32's `reasoning`, or `reasoning_content` (older vLLM) when the request
    /// asks with `mock_reasoning_field` (honoured with `--echo` only).
    var reasoningField = "reasoning"

    /// The escaped text of token `index`: the echoed piece, or the vocabulary's.
    func escapedToken(at index: Int) -> [UInt8] {
        if let echoPieces { return echoPieces[index] }
        return TokenVocabulary.escapedToken(at: index)
    }

    /// `mock_header_delay_ms`: a pause before this answer's head.
    var faultHeaderDelay: Duration? { self.faults.headerDelay }

    /// Parses and validates a request body, in vLLM's order: JSON syntax, object shape, field types,
    /// model name, then `max_tokens` against the context length.
    static func parse(
        body: ByteBuffer,
        kind: Kind,
        configuration: MockVLLMConfiguration
    ) -> Result<CompletionRequest, VLLMErrorResponse> {
        let document: JSONValue
        switch JSONParser.parse(body) {
        case .success(let value): document = value
        case .failure(let error): return .failure(.invalidJSON(error))
        }
        guard case .object = document else {
            return .failure(.invalidField(nil, expected: "a valid dictionary or object to extract fields from"))
        }

        var model = configuration.model
        if let requested = document["model"], requested != .null {
            guard let name = requested.stringValue else { return .failure(.invalidField("model", expected: "a valid string")) }
            guard name == configuration.model else {
                return .failure(.modelNotFound(requested: name, served: configuration.model))
            }
            model = name
        }

        var stream = false
        if let value = document["stream"], value != .null {
            guard let flag = value.booleanValue else { return .failure(.invalidField("stream", expected: "a valid boolean")) }
            stream = flag
        }
        let includeUsage = document["stream_options"]?["include_usage"]?.booleanValue ?? false

        var completionTokens = max(1, configuration.tokens)
        if let value = document["max_tokens"] ?? document["max_completion_tokens"], value != .null {
            guard let maxTokens = value.integerValue else {
                return .failure(.invalidField("max_tokens", expected: "a valid integer"))
            }
            guard maxTokens >= 1 else { return .failure(.maxTokensTooSmall(requested: maxTokens)) }
            guard maxTokens <= configuration.maxModelLength else {
                return .failure(.maxTokensTooLarge(requested: maxTokens, maxModelLength: configuration.maxModelLength))
            }
            completionTokens = min(completionTokens, maxTokens)
        }

        var parsed = CompletionRequest(
            kind: kind,
            model: model,
            stream: stream,
            includeUsage: stream && includeUsage,
            completionTokens: completionTokens,
            promptTokens: Self.estimatePromptTokens(document, kind: kind)
        )
        switch RequestFaults.parse(configuration: configuration, field: { document[$0] }) {
        case .success(let faults): parsed.faults = faults
        case .failure(let error): return .failure(error)
        }
        if configuration.echo {
            let pieces = EchoText.pieces(of: document, kind: kind, pieces: completionTokens)
            parsed = CompletionRequest(
                kind: kind, model: model, stream: stream, includeUsage: parsed.includeUsage,
                completionTokens: pieces.count, promptTokens: parsed.promptTokens, faults: parsed.faults,
                echoPieces: pieces)
            if kind == .chat, let reasoning = EchoText.reasoning(of: document) {
                parsed.echoReasoning = EchoText.split(reasoning, pieces: completionTokens)
                if document["mock_reasoning_field"]?.stringValue == "reasoning_content" {
                    parsed.reasoningField = "reasoning_content"
                }
            }
        }
        return .success(parsed)
    }

    /// The server's configuration with this request's fault fields applied.
    func effective(_ configuration: MockVLLMConfiguration) -> MockVLLMConfiguration {
        self.faults.applied(to: configuration)
    }

    /// Estimates prompt tokens without a tokenizer: one token per started 5 bytes of text, plus a chat
    /// template overhead of 5 per request and 4 per message (a completion prompt gets 1 for BOS).
    /// For the fixtures' prompt `hello` this gives vLLM's counts: 10 (chat) and 2 (completion).
    static func estimatePromptTokens(_ document: JSONValue, kind: Kind) -> Int {
        func textTokens(_ byteCount: Int) -> Int { (byteCount + 4) / 5 }
        func contentTokens(_ content: JSONValue?) -> Int {
            switch content {
            case .string(let text)?:
                return textTokens(text.utf8.count)
            case .array(let parts)?:
                return parts.reduce(0) { total, part in
                    if let text = part.stringValue { return total + textTokens(text.utf8.count) }
                    if let text = part["text"]?.stringValue { return total + textTokens(text.utf8.count) }
                    if part.integerValue != nil { return total + 1 }  // a token id
                    return total
                }
            default:
                return 0
            }
        }
        switch kind {
        case .chat:
            guard case .array(let messages)? = document["messages"] else { return 5 }
            return messages.reduce(5) { $0 + 4 + contentTokens($1["content"]) }
        case .text:
            return 1 + contentTokens(document["prompt"])
        }
    }
}
