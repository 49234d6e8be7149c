import NIOCore

/// The parts of a Responses API request (`POST /v1/responses`) the mock acts on and echoes.
struct ResponsesRequest: Sendable, Hashable {
    let model: String
    let stream: Bool
    /// `store` (default true): the answer can be fetched again with `GET /v1/responses/{id}`.
    let store: Bool
    /// `background`: answered at once as `queued` (`vllm-routes/responses-background`); the finished answer
    /// is what `GET /v1/responses/{id}` returns.
    let background: Bool
    /// Tokens to generate: the configured count, lowered by `max_output_tokens`.
    let outputTokens: Int
    /// Whether `max_output_tokens` cut the answer (then its status is `incomplete`, as in the captures).
    let cutByLimit: Bool
    let maxOutputTokens: Int?
    let temperature: Double
    let topP: Double
    let instructions: String?
    let user: String?
    let previousResponseID: String?
    let inputTokens: Int
    var faults = RequestFaults()

    static func parse(body: ByteBuffer, configuration: MockVLLMConfiguration) -> Result<Self, VLLMErrorResponse> {
        do {
            return .success(try Self.read(body: body, configuration: configuration))
        } catch {
            return .failure(error)
        }
    }

    private static func read(
        body: ByteBuffer,
        configuration: MockVLLMConfiguration
    ) throws(VLLMErrorResponse) -> Self {
        let document = try RequestDocument.object(body).get()
        let model = try RequestDocument.model(document, configuration: configuration).get()
        guard let input = document["input"], input != .null else { throw VLLMErrorResponse.missingField("input") }
        let inputTokens: Int
        switch input {
        case .string(let text):
            inputTokens = 5 + 4 + RequestDocument.textTokens(text)
        case .array(let items):
            inputTokens = items.reduce(5) { $0 + 4 + RequestDocument.contentTokens($1["content"]) }
        default:
            throw VLLMErrorResponse.invalidField("input", expected: "a valid string or list")
        }
        let limit = try RequestDocument.integer(document, "max_output_tokens").get()
        let length = try RequestDocument.generationLength(
            limit: limit,
            field: "max_output_tokens",
            configuration: configuration
        ).get()
        let instructions = try RequestDocument.string(document, "instructions").get()
        var request = ResponsesRequest(
            model: model,
            stream: try RequestDocument.bool(document, "stream").get(),
            store: try RequestDocument.bool(document, "store", fallback: true).get(),
            background: try RequestDocument.bool(document, "background").get(),
            outputTokens: length.tokens,
            cutByLimit: length.cutByLimit,
            maxOutputTokens: limit,
            temperature: try RequestDocument.number(document, "temperature").get() ?? 1.0,
            topP: try RequestDocument.number(document, "top_p").get() ?? 1.0,
            instructions: instructions,
            user: try RequestDocument.string(document, "user").get(),
            previousResponseID: try RequestDocument.string(document, "previous_response_id").get(),
            inputTokens: inputTokens + (instructions.map(RequestDocument.textTokens) ?? 0)
        )
        if request.background, !request.store {
            throw VLLMErrorResponse.badRequest("background can only be used when `store` is true", param: "background")
        }
        request.faults = try RequestFaults.parse(configuration: configuration, field: { document[$0] }).get()
        return request
    }
}
