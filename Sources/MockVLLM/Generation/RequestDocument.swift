import NIOCore

/// The checks every JSON route of vLLM runs first, in its order: JSON syntax, an object, then typed fields
/// and the model name.
enum RequestDocument {
    /// The parsed body, if it is a JSON object.
    static func object(_ body: ByteBuffer) -> Result<JSONValue, VLLMErrorResponse> {
        switch JSONParser.parse(body) {
        case .success(let document):
            guard case .object = document else {
                return .failure(.invalidField(nil, expected: "a valid dictionary or object to extract fields from"))
            }
            return .success(document)
        case .failure(let error):
            return .failure(.invalidJSON(error))
        }
    }

    /// The model to echo: the request's `model` when it names the served model, the served model when the
    /// field is absent (and not `required`); vLLM's 404 for any other name.
    static func model(
        _ document: JSONValue,
        configuration: MockVLLMConfiguration,
        required: Bool = false
    ) -> Result<String, VLLMErrorResponse> {
        guard let requested = document["model"], requested != .null else {
            return required ? .failure(.missingField("model")) : .success(configuration.model)
        }
        guard let name = requested.stringValue else { return .failure(.invalidField("model", expected: "a valid string")) }
        guard name == configuration.model else {
            return .failure(.modelNotFound(requested: name, served: configuration.model))
        }
        return .success(name)
    }

    /// A boolean field (vLLM accepts 0 and 1), `fallback` when absent or null.
    static func bool(_ document: JSONValue, _ field: String, fallback: Bool = false) -> Result<Bool, VLLMErrorResponse> {
        guard let value = document[field], value != .null else { return .success(fallback) }
        guard let flag = value.booleanValue else { return .failure(.invalidField(field, expected: "a valid boolean")) }
        return .success(flag)
    }

    /// An integer field, nil when absent or null.
    static func integer(_ document: JSONValue, _ field: String) -> Result<Int?, VLLMErrorResponse> {
        guard let value = document[field], value != .null else { return .success(nil) }
        guard let number = value.integerValue else { return .failure(.invalidField(field, expected: "a valid integer")) }
        return .success(number)
    }

    /// A number field (integers accepted), nil when absent or null.
    static func number(_ document: JSONValue, _ field: String) -> Result<Double?, VLLMErrorResponse> {
        switch document[field] {
        case nil, .null?: return .success(nil)
        case .integer(let value)?: return .success(Double(value))
        case .double(let value)?: return .success(value)
        default: return .failure(.invalidField(field, expected: "a valid number"))
        }
    }

    /// A string field, nil when absent or null.
    static func string(_ document: JSONValue, _ field: String) -> Result<String?, VLLMErrorResponse> {
        guard let value = document[field], value != .null else { return .success(nil) }
        guard let text = value.stringValue else { return .failure(.invalidField(field, expected: "a valid string")) }
        return .success(text)
    }

    /// The tokens to generate for a limit field (`max_output_tokens`, `max_tokens`): the configured count,
    /// lowered by the limit; vLLM's 400 below 1 or beyond the context length. Also whether the limit cut it.
    static func generationLength(
        limit: Int?,
        field: String = "max_tokens",
        configuration: MockVLLMConfiguration
    ) -> Result<(tokens: Int, cutByLimit: Bool), VLLMErrorResponse> {
        let configured = max(1, configuration.tokens)
        guard let limit else { return .success((configured, false)) }
        guard limit >= 1 else { return .failure(.maxTokensTooSmall(requested: limit)) }
        guard limit <= configuration.maxModelLength else {
            return .failure(.maxTokensTooLarge(requested: limit, maxModelLength: configuration.maxModelLength, field: field))
        }
        return .success((min(configured, limit), limit <= configured))
    }

    /// Estimated tokens of a text: one per started 5 bytes (the estimate of ``CompletionRequest``).
    static func textTokens(_ text: String) -> Int {
        (text.utf8.count + 4) / 5
    }

    /// Estimated tokens of message content: a string, or parts with `text`.
    static func contentTokens(_ content: JSONValue?) -> Int {
        switch content {
        case .string(let text)?:
            return Self.textTokens(text)
        case .array(let parts)?:
            return parts.reduce(0) { total, part in
                if let text = part.stringValue { return total + Self.textTokens(text) }
                if let text = part["text"]?.stringValue { return total + Self.textTokens(text) }
                return total
            }
        default:
            return 0
        }
    }
}
