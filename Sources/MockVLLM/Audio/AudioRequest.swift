import NIOCore

/// A speech-to-text request (`POST /v1/audio/transcriptions`, `/v1/audio/translations`): a
/// `multipart/form-data` body with a `file` part and form fields, read as vLLM reads it.
struct AudioRequest: Sendable {
    /// Which route: the stream's id prefix and object, and whether the JSON answer carries usage.
    enum Task: Sendable, Hashable {
        case transcribe
        case translate
    }

    let task: Task
    let model: String
    let stream: Bool
    /// `stream_include_usage`: a usage chunk before `[DONE]`.
    let includeUsage: Bool
    /// Tokens to generate: the configured count, lowered by `max_completion_tokens`.
    let outputTokens: Int
    /// The audio's duration in whole seconds, rounded up (16 kHz 16-bit mono: 32 000 bytes a second).
    let seconds: Int
    var faults = RequestFaults()

    static func parse(
        body: ByteBuffer,
        contentType: String?,
        task: Task,
        configuration: MockVLLMConfiguration
    ) -> Result<Self, VLLMErrorResponse> {
        do {
            return .success(try Self.read(body: body, contentType: contentType, task: task, configuration: configuration))
        } catch {
            return .failure(error)
        }
    }

    private static func read(
        body: ByteBuffer,
        contentType: String?,
        task: Task,
        configuration: MockVLLMConfiguration
    ) throws(VLLMErrorResponse) -> Self {
        guard let boundary = contentType.flatMap(MultipartForm.boundary(contentType:)),
            let form = MultipartForm.parse(body, boundary: boundary)
        else {
            throw VLLMErrorResponse.invalidField(nil, expected: "a valid multipart/form-data body")
        }
        guard let file = form["file"] else { throw VLLMErrorResponse.missingField("file") }
        guard file.filename != nil else {
            throw VLLMErrorResponse.invalidField("file", expected: "a valid file")
        }
        let fields = JSONValue.object(Dictionary(form.parts.map { ($0.name, form.value($0.name) ?? .null) }, uniquingKeysWith: { first, _ in first }))
        let model = try RequestDocument.model(fields, configuration: configuration).get()
        let format = try RequestDocument.string(fields, "response_format").get() ?? "json"
        guard ["json", "text", "verbose_json", "srt", "vtt"].contains(format) else {
            throw VLLMErrorResponse.invalidField("response_format", expected: "'json', 'text', 'srt', 'verbose_json' or 'vtt'")
        }
        guard format == "json" else {
            throw VLLMErrorResponse.badRequest("Currently only support response_format `text`, `json` or `verbose_json`")
        }
        let stream = try RequestDocument.bool(fields, "stream").get()
        let includeUsage = try RequestDocument.bool(fields, "stream_include_usage").get()
        if includeUsage, !stream {
            throw VLLMErrorResponse.badRequest("Stream options can only be defined when `stream=True`.", param: "stream_include_usage")
        }
        let limit = try RequestDocument.integer(fields, "max_completion_tokens").get()
        let length = try RequestDocument.generationLength(limit: limit, configuration: configuration).get()
        var request = AudioRequest(
            task: task,
            model: model,
            stream: stream,
            includeUsage: includeUsage,
            outputTokens: length.tokens,
            seconds: max(1, (file.content.count + 31_999) / 32_000)
        )
        request.faults = try RequestFaults.parse(configuration: configuration, field: { fields[$0] }).get()
        return request
    }
}
