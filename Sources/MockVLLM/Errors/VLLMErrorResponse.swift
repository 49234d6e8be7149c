
/// An error answer shaped like vLLM 0.32's: a status and `{"error":{"message","type","param","code"}}`.
///
/// The texts of the factories reproduce the bodies in `Fixtures/vllm/error-*.body` byte for byte.
struct VLLMErrorResponse: Error, Sendable, Hashable {
    /// HTTP status, repeated as the integer `code` in the body.
    let status: Int
    let message: String
    /// vLLM's error type: an exception name such as `NotFoundError`, or `Bad Request` for validation errors.
    let type: String
    let param: String?

    /// The compact JSON body.
    var body: [UInt8] {
        var output: [UInt8] = Array(#"{"error":{"message":"#.utf8)
        output += JSONText.quoted(self.message)
        output += Array(#","type":"#.utf8)
        output += JSONText.quoted(self.type)
        output += Array(#","param":"#.utf8)
        output += self.param.map { JSONText.quoted($0) } ?? Array("null".utf8)
        output += Array(#","code":"#.utf8)
        JSONText.appendInteger(self.status, to: &output)
        output += Array("}}".utf8)
        return output
    }

    /// The same error as the Messages API words it (`vllm-routes/error-messages-unknown-model`):
    /// `{"type":"error","error":{"type","message"}}`, without `param` and `code`.
    var anthropicBody: [UInt8] {
        var output: [UInt8] = Array(#"{"type":"error","error":{"type":"#.utf8)
        output += JSONText.quoted(self.type)
        output += Array(#","message":"#.utf8)
        output += JSONText.quoted(self.message)
        output += Array("}}".utf8)
        return output
    }

    /// 404 for a `model` the server does not serve (`error-unknown-model`).
    static func modelNotFound(requested: String, served: String) -> Self {
        .init(
            status: 404,
            message: "The model `\(requested)` does not exist. Valid aliases: \(served).",
            type: "NotFoundError",
            param: "model"
        )
    }

    /// 400 for `max_tokens` beyond the context length (`error-too-long`, also for streaming requests); the
    /// Responses API names its own field (`vllm-routes/error-responses-stream-too-long`).
    static func maxTokensTooLarge(requested: Int, maxModelLength: Int, field: String = "max_tokens") -> Self {
        .init(
            status: 400,
            message: "\(field)=\(requested) cannot be greater than max_model_len=\(maxModelLength). "
                + "Please request fewer output tokens. (parameter=\(field), value=\(requested))",
            type: "BadRequestError",
            param: field
        )
    }

    /// 400 for `max_tokens` below 1.
    static func maxTokensTooSmall(requested: Int) -> Self {
        .init(
            status: 400,
            message: "max_tokens must be at least 1, got \(requested).",
            type: "BadRequestError",
            param: "max_tokens"
        )
    }

    /// 400 for a body that is not JSON, worded as FastAPI's validation error around Python's message (`error-bad-json`).
    static func invalidJSON(_ error: JSONSyntaxError) -> Self {
        let location = "body.\(error.position)"
        return .init(
            status: 400,
            message: "1 validation error:\n  {'type': 'json_invalid', 'loc': '\(location)', 'msg': 'JSON decode error', "
                + "'input': '<dict of 0 items>', 'ctx': {'error': \(PythonRepr.string(error.reason))}}",
            type: "Bad Request",
            param: location
        )
    }

    /// 400 for a field of the wrong type or a JSON body that is not an object (`field` nil).
    static func invalidField(_ field: String?, expected: String) -> Self {
        let location = field.map { "body.\($0)" } ?? "body"
        return .init(
            status: 400,
            message: "1 validation error:\n  {'type': 'invalid_type', 'loc': '\(location)', 'msg': 'Input should be \(expected)'}",
            type: "Bad Request",
            param: location
        )
    }

    /// 400 for a required field the request lacks, worded as pydantic's `missing` error.
    static func missingField(_ field: String) -> Self {
        .init(
            status: 400,
            message: "1 validation error:\n  {'type': 'missing', 'loc': 'body.\(field)', 'msg': 'Field required'}",
            type: "Bad Request",
            param: "body.\(field)"
        )
    }

    /// 400 for a request vLLM refuses after validation (`message` as vLLM words it).
    static func badRequest(_ message: String, param: String? = nil) -> Self {
        .init(status: 400, message: message, type: "BadRequestError", param: param)
    }

    /// 400 for a stored-response id without vLLM's `resp_` prefix.
    static func invalidResponseID(_ id: String) -> Self {
        .init(
            status: 400,
            message: "Invalid 'response_id': '\(id)'. Expected an ID that begins with 'resp'.",
            type: "invalid_request_error",
            param: "response_id"
        )
    }

    /// 404 for a stored-response id the server does not hold.
    static func responseNotFound(_ id: String) -> Self {
        .init(
            status: 404,
            message: "Response with id '\(id)' not found.",
            type: "invalid_request_error",
            param: "response_id"
        )
    }

    /// 400 for cancelling a response that was not created in the background (all of the mock's).
    static let cannotCancelSynchronous = Self(
        status: 400,
        message: "Cannot cancel a synchronous response.",
        type: "invalid_request_error",
        param: "response_id"
    )

    /// 413 for a request body larger than the mock accepts.
    static func bodyTooLarge(limit: Int) -> Self {
        .init(
            status: 413,
            message: "Request body larger than \(limit) bytes",
            type: "RequestEntityTooLargeError",
            param: nil
        )
    }

    /// The answer `--status CODE` forces: the reason phrase as message, its words plus `Error` as type
    /// (500 → `InternalServerError`, 503 → `ServiceUnavailableError`), as vLLM names its exceptions.
    static func forced(status: Int) -> Self {
        let phrase = Self.reasonPhrase(for: status) ?? "HTTP \(status)"
        let words = phrase.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
        var type = words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if !type.hasSuffix("Error") { type += "Error" }
        return .init(status: status, message: phrase, type: type, param: nil)
    }

    /// The standard reason phrase of `code`, for the codes a mock answers with; nil for others.
    static func reasonPhrase(for code: Int) -> String? {
        switch code {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 413: "Payload Too Large"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: nil
        }
    }
}
