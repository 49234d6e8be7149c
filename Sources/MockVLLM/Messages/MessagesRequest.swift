import NIOCore

/// The parts of an Anthropic Messages request (`POST /v1/messages`, `/v1/messages/count_tokens`) the mock
/// acts on. `model` and `messages` are required, and `max_tokens` too except for counting, as in vLLM.
struct MessagesRequest: Sendable, Hashable {
    let model: String
    let stream: Bool
    /// Tokens to generate: the configured count, lowered by `max_tokens`.
    let outputTokens: Int
    /// Whether `max_tokens` cut the answer (`stop_reason` `max_tokens`, else `end_turn`).
    let cutByLimit: Bool
    let inputTokens: Int
    var faults = RequestFaults()

    static func parse(
        body: ByteBuffer,
        countingOnly: Bool,
        configuration: MockVLLMConfiguration
    ) -> Result<Self, VLLMErrorResponse> {
        do {
            return .success(try Self.read(body: body, countingOnly: countingOnly, configuration: configuration))
        } catch {
            return .failure(error)
        }
    }

    private static func read(
        body: ByteBuffer,
        countingOnly: Bool,
        configuration: MockVLLMConfiguration
    ) throws(VLLMErrorResponse) -> Self {
        let document = try RequestDocument.object(body).get()
        guard case .array(let messages)? = document["messages"] else {
            throw document["messages"] == nil
                ? VLLMErrorResponse.missingField("messages") : .invalidField("messages", expected: "a valid list")
        }
        let limit = try RequestDocument.integer(document, "max_tokens").get()
        if limit == nil, !countingOnly { throw VLLMErrorResponse.missingField("max_tokens") }
        let model = try RequestDocument.model(document, configuration: configuration, required: true).get()
        let length = try RequestDocument.generationLength(limit: countingOnly ? nil : limit, configuration: configuration).get()
        let system = RequestDocument.contentTokens(document["system"])
        var request = MessagesRequest(
            model: model,
            stream: try RequestDocument.bool(document, "stream").get(),
            outputTokens: length.tokens,
            cutByLimit: length.cutByLimit,
            inputTokens: messages.reduce(5 + system) { $0 + 4 + RequestDocument.contentTokens($1["content"]) }
        )
        request.faults = try RequestFaults.parse(configuration: configuration, field: { document[$0] }).get()
        return request
    }
}
