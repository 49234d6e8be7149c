/// Refuses the clear request parameters that would make vLLM answer with a field the dialect does not seal
/// (docs/E2EE.md, "What E2EE refuses").
///
/// No dialect binds the clear parameters into an AAD, so a party in the middle can add `logprobs`, `tools`, … to
/// an encrypted request; vLLM would then answer with the generated or the decrypted prompt's tokens, or with model
/// output in tool calls, none of which DV or ACI seal. A parameter counts when its value asks for something:
/// anything but `null`, `false`, `0`, `[]` or `{}` (and `"none"` for the tool choice, which asks for nothing).
struct E2EEParameterGuard {
    /// The top-level parameters refused for `context` on `endpoint`, with vLLM's answer fields in mind: chat returns
    /// `choices[].logprobs` (`logprobs`, `top_logprobs`; `return_tokens_as_token_ids` reshapes them), the prompt's
    /// tokens (`prompt_logprobs`, `prompt_token_ids`), `token_ids` (`return_token_ids`) and tool calls (`tools`,
    /// `functions`, `tool_choice`, `function_call`); completions the same but for tools, with an integer
    /// `logprobs` (its `echo` puts the prompt into `text`, which every completions dialect seals). Embeddings,
    /// rerank and score return nothing of that kind. NEAR with `X-Encrypt-All-Fields` seals chat tool calls and
    /// logprob tokens, so those stay allowed there.
    static func refused(context: E2EERequestContext, endpoint: E2EEEndpoint) -> [String] {
        let tokens = ["prompt_logprobs", "return_token_ids"]
        let logprobs = ["logprobs", "top_logprobs", "return_tokens_as_token_ids"]
        let tools = ["tools", "functions", "tool_choice", "function_call"]
        switch endpoint {
        case .chatCompletions:
            if case .near(let near) = context, near.encryptAllFields { return tokens }
            return tokens + logprobs + tools
        case .completions: return tokens + logprobs
        case .embeddings, .rerank, .score, .responses, .messages, .other: return []
        }
    }

    /// Throws the dialect's `invalid_e2ee_request` (NEAR: `bad_request`) naming the first refused parameter present
    /// with a value that asks for something. A body that is not a JSON object is left to the opener.
    static func check(_ body: [UInt8], context: E2EERequestContext, endpoint: E2EEEndpoint, family: E2EEError.Family)
        throws(E2EEError)
    {
        let names = Self.refused(context: context, endpoint: endpoint)
        guard !names.isEmpty else { return }
        let json = JSONScanner(body)
        guard let root = try? json.root(), json.kind(root) == .object, let top = try? json.members(root) else { return }
        for member in top where names.contains(member.name) {
            if member.name == "tool_choice" || member.name == "function_call", json.isString(member.value, "none") {
                continue
            }
            if !Self.isVacant(member.value, in: json) { throw .unsealedParameter(member.name, family) }
        }
    }

    /// `null`, `false`, a zero number, `[]`, `{}`, and with `emptyString` also `""`: a value that carries nothing.
    static func isVacant(_ value: Range<Int>, in json: JSONScanner, emptyString: Bool = false) -> Bool {
        let bytes = json.bytes
        switch json.kind(value) {
        case .literal: return bytes[value.lowerBound] != UInt8(ascii: "t")
        case .number:
            // Zero when every mantissa digit is 0 (`0`, `-0`, `0.0`, `0e5`).
            for byte in bytes[value] {
                switch byte {
                case UInt8(ascii: "e"), UInt8(ascii: "E"): return true
                case UInt8(ascii: "1")...UInt8(ascii: "9"): return false
                default: continue
                }
            }
            return true
        case .object, .array:
            var index = value.lowerBound + 1
            while index < value.upperBound, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            return index == value.upperBound - 1
        case .string: return emptyString && value.count == 2
        }
    }
}
