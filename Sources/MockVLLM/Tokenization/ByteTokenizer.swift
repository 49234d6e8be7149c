import NIOCore

/// `/tokenize` and `/detokenize` for the mock: one token per UTF-8 byte (id = byte + 3, ids 0 to 2 being
/// special), so that detokenizing what was tokenized gives the text back. Shapes as vLLM's
/// (`vllm-routes/tokenize.body`, `detokenize.body`): no id, no `object`.
enum ByteTokenizer {
    /// First id of a byte token.
    static let byteOffset = 3

    /// `POST /tokenize` with a `prompt` (or chat `messages`, their contents joined).
    static func tokenize(body: ByteBuffer, configuration: MockVLLMConfiguration) -> Result<ByteBuffer, VLLMErrorResponse> {
        do throws(VLLMErrorResponse) {
            let document = try RequestDocument.object(body).get()
            _ = try RequestDocument.model(document, configuration: configuration).get()
            let text: String
            if let prompt = try RequestDocument.string(document, "prompt").get() {
                text = prompt
            } else if case .array(let messages)? = document["messages"] {
                text = messages.compactMap { $0["content"]?.stringValue }.joined(separator: "\n")
            } else {
                throw VLLMErrorResponse.missingField("prompt")
            }
            let tokens = text.utf8.map { Int($0) + Self.byteOffset }
            var output = Array(#"{"count":"#.utf8)
            JSONText.appendInteger(tokens.count, to: &output)
            output += Array(#","max_model_len":"#.utf8)
            JSONText.appendInteger(configuration.maxModelLength, to: &output)
            output += Array(#","tokens":["#.utf8)
            for (index, token) in tokens.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONText.appendInteger(token, to: &output)
            }
            output += Array(#"],"token_strs":null}"#.utf8)
            return .success(ByteBuffer(bytes: output))
        } catch {
            return .failure(error)
        }
    }

    /// `POST /detokenize` with `tokens`; an id that is no byte token decodes as U+FFFD.
    static func detokenize(body: ByteBuffer, configuration: MockVLLMConfiguration) -> Result<ByteBuffer, VLLMErrorResponse> {
        do throws(VLLMErrorResponse) {
            let document = try RequestDocument.object(body).get()
            _ = try RequestDocument.model(document, configuration: configuration).get()
            guard case .array(let values)? = document["tokens"] else {
                throw document["tokens"] == nil
                    ? VLLMErrorResponse.missingField("tokens") : .invalidField("tokens", expected: "a valid list")
            }
            var bytes: [UInt8] = []
            for value in values {
                guard let id = value.integerValue else { throw VLLMErrorResponse.invalidField("tokens", expected: "a list of integers") }
                if let byte = UInt8(exactly: id - Self.byteOffset) {
                    bytes.append(byte)
                } else {
                    bytes += [0xEF, 0xBF, 0xBD]
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            return .success(ByteBuffer(bytes: Array(#"{"prompt":"#.utf8) + JSONText.quoted(text) + Array("}".utf8)))
        } catch {
            return .failure(error)
        }
    }
}
