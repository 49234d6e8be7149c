import NIOCore

/// Writes the bytes of one completion answer exactly as vLLM 0.32 frames them.
///
/// Compact JSON with vLLM's field order (`Fixtures/vllm/*.body`). The part every event of a stream
/// shares (`{"id":…,"object":…,"created":…,"model":…,`) is built once per request; each event then costs one
/// buffer allocation and a few byte copies, with no JSON encoder in the loop.
struct CompletionRenderer: Sendable {
    /// vLLM's `system_fingerprint` in the recorded fixtures.
    static let systemFingerprint = "vllm-0.32.0-1b32d587"

    let request: CompletionRequest
    let id: String
    let created: Int
    /// `{"id":"…","object":"<chunk object>","created":…,"model":"…",` for stream events.
    private let streamPrefix: [UInt8]

    init(request: CompletionRequest, id: String, created: Int) {
        self.request = request
        self.id = id
        self.created = created
        self.streamPrefix = Self.prefix(
            id: id,
            object: request.kind == .chat ? "chat.completion.chunk" : "text_completion",
            created: created,
            model: request.model
        )
    }

    /// Number of `data:` events of the stream, `[DONE]` included.
    var streamEventCount: Int {
        let roleChunk = self.request.kind == .chat ? 1 : 0
        return roleChunk + self.reasoningPieces.count + self.request.completionTokens + (self.request.includeUsage && !self.failsMidStream ? 1 : 0) + 1
    }

    /// With `mock_terminal` (any value), the stream fails as vLLM's does when generation raises: an error
    /// event in place of the finishing chunk, no usage chunk, and still `data: [DONE]`.
    var failsMidStream: Bool {
        self.request.faults.terminal != nil
    }

    /// The stream's events, generated one by one.
    func streamEvents() -> Events {
        Events(renderer: self)
    }

    /// Event `index` of the stream (`0..<streamEventCount`): role chunk (chat only), one chunk per token,
    /// the last carrying `finish_reason`, the usage chunk when asked for, then `[DONE]`.
    func streamEvent(at index: Int) -> ByteBuffer {
        var tokenIndex = index
        if self.request.kind == .chat {
            if index == 0 { return self.event(Self.chatRoleTail) }
            tokenIndex -= 1
            // Echoed reasoning streams before the content, as a reasoning parser's deltas do.
            let reasoning = self.reasoningPieces
            if tokenIndex < reasoning.count {
                return self.event(Self.deltaHead(self.request.reasoningField), reasoning[tokenIndex], Self.chatTokenTail)
            }
            tokenIndex -= reasoning.count
        }
        let tokens = self.request.completionTokens
        if tokenIndex == tokens - 1, self.failsMidStream {
            return ByteBuffer(bytes: Self.streamError)
        }
        if tokenIndex < tokens {
            let isLast = tokenIndex == tokens - 1
            let token = self.request.escapedToken(at: tokenIndex)
            switch (self.request.kind, isLast) {
            case (.chat, false): return self.event(Self.chatTokenHead, token, Self.chatTokenTail)
            case (.chat, true): return self.event(Self.chatTokenHead, token, Self.chatFinalTail, self.finalClose)
            case (.text, false): return self.event(Self.textTokenHead, token, Self.textTokenTail)
            case (.text, true): return self.event(Self.textTokenHead, token, Self.textFinalTail, self.finalClose)
            }
        }
        if tokenIndex == tokens, self.request.includeUsage, !self.failsMidStream {
            return self.event(Self.usageHead, self.usage(details: false), Self.fingerprintClose)
        }
        return ByteBuffer(bytes: Self.done)
    }

    /// The non-streaming answer: one compact JSON object (`chat.body` / `completion.body` shape).
    func jsonBody() -> ByteBuffer {
        var text: [UInt8] = []
        for index in 0..<self.request.completionTokens {
            text += self.request.escapedToken(at: index)
        }
        var body = Self.prefix(
            id: self.id,
            object: self.request.kind == .chat ? "chat.completion" : "text_completion",
            created: self.created,
            model: self.request.model
        )
        switch self.request.kind {
        case .chat:
            body += Array(#""choices":[{"index":0,"message":{"role":"assistant","content":""#.utf8)
            body += text
            body += Array(#"","refusal":null,"annotations":null,"audio":null,"function_call":null,"#.utf8)
            body += self.reasoningMember
            body += Array(
                #"},"logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null,"routed_experts":null}],"service_tier":null,"system_fingerprint":""#
                    .utf8
            )
            body += Array(Self.systemFingerprint.utf8)
            body += Array(#"","usage":"#.utf8)
            body += self.usage(details: true)
            body += Array(
                #","prompt_logprobs":null,"prompt_token_ids":null,"prompt_text":null,"kv_transfer_params":null,"ec_transfer_params":null,"metrics":null}"#
                    .utf8
            )
        case .text:
            body += Array(#""choices":[{"index":0,"text":""#.utf8)
            body += text
            body += Array(
                #"","logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null,"prompt_logprobs":null,"prompt_token_ids":null,"routed_experts":null}],"service_tier":null,"system_fingerprint":""#
                    .utf8
            )
            body += Array(Self.systemFingerprint.utf8)
            body += Array(#"","usage":"#.utf8)
            body += self.usage(details: true)
            body += Array(#","kv_transfer_params":null,"ec_transfer_params":null,"metrics":null}"#.utf8)
        }
        return ByteBuffer(bytes: body)
    }

    // MARK: - Pieces

    /// The echoed reasoning's escaped pieces (none unless `--echo` saw a system message).
    private var reasoningPieces: [[UInt8]] {
        self.request.echoReasoning ?? []
    }

    /// `"reasoning":null` as vLLM 0.32 writes it, or the echoed reasoning under its field name.
    private var reasoningMember: [UInt8] {
        guard let pieces = self.request.echoReasoning else { return Array(#""reasoning":null"#.utf8) }
        let text = Array(pieces.joined())
        if self.request.reasoningField == "reasoning" { return Array(#""reasoning":""#.utf8) + text + [UInt8(ascii: "\"")] }
        return Array(#""reasoning":null,"reasoning_content":""#.utf8) + text + [UInt8(ascii: "\"")]
    }

    /// `"choices":[{"index":0,"delta":{"<field>":"`.
    private static func deltaHead(_ field: String) -> [UInt8] {
        Array(#""choices":[{"index":0,"delta":{"#.utf8) + JSONText.quoted(field) + Array(#":""#.utf8)
    }

    /// `data: ` + shared prefix + the given parts + `\n\n`, in one exactly sized buffer.
    private func event(_ parts: [UInt8]...) -> ByteBuffer {
        let size = Self.dataPrefix.count + self.streamPrefix.count + parts.reduce(0) { $0 + $1.count } + 2
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        buffer.writeBytes(Self.dataPrefix)
        buffer.writeBytes(self.streamPrefix)
        for part in parts {
            buffer.writeBytes(part)
        }
        buffer.writeBytes(Self.eventEnd)
        return buffer
    }

    /// The end of the last token chunk: the fingerprint rides on it unless a usage chunk follows.
    private var finalClose: [UInt8] {
        self.request.includeUsage ? Self.objectClose : Self.fingerprintClose
    }

    private func usage(details: Bool) -> [UInt8] {
        let prompt = self.request.promptTokens
        let completion = self.request.completionTokens
        var output = Array(#"{"prompt_tokens":"#.utf8)
        JSONText.appendInteger(prompt, to: &output)
        output += Array(#","total_tokens":"#.utf8)
        JSONText.appendInteger(prompt + completion, to: &output)
        output += Array(#","completion_tokens":"#.utf8)
        JSONText.appendInteger(completion, to: &output)
        if details {
            output += Array(#","prompt_tokens_details":null,"completion_tokens_details":null"#.utf8)
        }
        output += Array("}".utf8)
        return output
    }

    private static func prefix(id: String, object: String, created: Int, model: String) -> [UInt8] {
        var output = Array(#"{"id":"#.utf8)
        output += JSONText.quoted(id)
        output += Array(#","object":"#.utf8)
        output += JSONText.quoted(object)
        output += Array(#","created":"#.utf8)
        JSONText.appendInteger(created, to: &output)
        output += Array(#","model":"#.utf8)
        output += JSONText.quoted(model)
        output += Array(",".utf8)
        return output
    }

    /// vLLM's mid-stream failure event: its error envelope as a `data:` event.
    private static let streamError = Array(
        #"data: {"error":{"message":"mock-vllm: injected stream error","type":"InternalServerError","param":null,"code":500}}"#
            .utf8
    ) + Array("\n\n".utf8)
    private static let dataPrefix = Array("data: ".utf8)
    private static let eventEnd = Array("\n\n".utf8)
    private static let done = Array("data: [DONE]\n\n".utf8)
    private static let chatRoleTail = Array(
        #""choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null,"prompt_text":null}"#
            .utf8
    )
    private static let chatTokenHead = Array(#""choices":[{"index":0,"delta":{"content":""#.utf8)
    private static let chatTokenTail = Array(#""},"logprobs":null,"finish_reason":null,"token_ids":null}]}"#.utf8)
    private static let chatFinalTail = Array(
        #""},"logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null}]"#.utf8
    )
    private static let textTokenHead = Array(#""choices":[{"index":0,"text":""#.utf8)
    private static let textTokenTail = Array(
        #"","logprobs":null,"finish_reason":null,"stop_reason":null,"prompt_token_ids":null,"token_ids":null}]}"#.utf8
    )
    private static let textFinalTail = Array(
        #"","logprobs":null,"finish_reason":"length","stop_reason":null,"prompt_token_ids":null,"token_ids":null}]"#
            .utf8
    )
    private static let usageHead = Array(#""choices":[],"usage":"#.utf8)
    private static let objectClose = Array("}".utf8)
    /// `,"system_fingerprint":"…"}`: closes the last chunk of a stream.
    private static let fingerprintClose = Array(#","system_fingerprint":"\#(systemFingerprint)"}"#.utf8)
}

extension CompletionRenderer {
    /// The events of one stream, produced on demand so a long stream is never held in memory.
    struct Events: IteratorProtocol, Sendable {
        let renderer: CompletionRenderer
        private var index = 0

        init(renderer: CompletionRenderer) {
            self.renderer = renderer
        }

        mutating func next() -> ByteBuffer? {
            guard self.index < self.renderer.streamEventCount else { return nil }
            defer { self.index += 1 }
            return self.renderer.streamEvent(at: self.index)
        }
    }
}
