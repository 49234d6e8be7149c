import NIOCore

/// Writes an Anthropic Messages answer exactly as vLLM 0.32 frames it (`vllm-routes/messages.body`,
/// `messages-stream.body`): a `chatcmpl-` id, compact JSON, and a non-streamed body without the null
/// fields (vLLM drops them there, so `stop_sequence` is absent) while the stream's `message_start` keeps them.
struct MessagesRenderer: Sendable {
    let request: MessagesRequest
    /// `chatcmpl-` and 16 hex digits, as vLLM names Messages answers.
    let id: String

    init(request: MessagesRequest) {
        self.request = request
        self.id = CompletionID.make(prefix: "chatcmpl-")
    }

    var stopReason: String {
        self.request.cutByLimit ? "max_tokens" : "end_turn"
    }

    /// The non-streamed answer.
    func jsonBody() -> ByteBuffer {
        var body = Array(#"{"id":"#.utf8) + JSONText.quoted(self.id)
        body += Array(#","type":"message","role":"assistant","content":[{"type":"text","text":""#.utf8)
        body += GeneratedText(count: self.request.outputTokens).escaped
        body += Array(#""}],"model":"#.utf8) + JSONText.quoted(self.request.model)
        body += Array(#","stop_reason":"#.utf8) + JSONText.quoted(self.stopReason)
        body += Array(#","usage":"#.utf8) + self.usage(output: self.request.outputTokens) + Array("}".utf8)
        return ByteBuffer(bytes: body)
    }

    /// `/v1/messages/count_tokens` (`vllm-routes/messages-count-tokens`).
    static func countBody(inputTokens: Int) -> ByteBuffer {
        var body = Array(#"{"input_tokens":"#.utf8)
        JSONText.appendInteger(inputTokens, to: &body)
        body += Array(#","context_management":{"original_input_tokens":"#.utf8)
        JSONText.appendInteger(inputTokens, to: &body)
        body += Array("}}".utf8)
        return ByteBuffer(bytes: body)
    }

    /// The stream's events, generated one by one.
    func streamEvents() -> Events {
        Events(renderer: self)
    }

    fileprivate func usage(output: Int) -> [UInt8] {
        var usage = Array(#"{"input_tokens":"#.utf8)
        JSONText.appendInteger(self.request.inputTokens, to: &usage)
        usage += Array(#","output_tokens":"#.utf8)
        JSONText.appendInteger(output, to: &usage)
        usage += Array("}".utf8)
        return usage
    }
}

extension MessagesRenderer {
    /// `message_start`, `content_block_start`, one `content_block_delta` per non-empty piece,
    /// `content_block_stop`, `message_delta`, `message_stop` (or the injected `error`). No `[DONE]`.
    struct Events: IteratorProtocol, Sendable {
        private enum Step {
            case start, blockStart, deltas, blockStop, messageDelta, stop, finished
        }

        let renderer: MessagesRenderer
        private var step = Step.start
        private var tokenIndex = 0

        init(renderer: MessagesRenderer) {
            self.renderer = renderer
        }

        mutating func next() -> ByteBuffer? {
            let renderer = self.renderer
            switch self.step {
            case .start:
                self.step = .blockStart
                var data = Array(#"{"type":"message_start","message":{"id":"#.utf8) + JSONText.quoted(renderer.id)
                data += Array(#","type":"message","role":"assistant","content":[],"model":"#.utf8)
                data += JSONText.quoted(renderer.request.model)
                data += Array(#","stop_reason":null,"stop_sequence":null,"usage":"#.utf8)
                data += renderer.usage(output: 0) + Array("}}".utf8)
                return NamedEvent.make("message_start", data: data)
            case .blockStart:
                self.step = .deltas
                return NamedEvent.make(
                    "content_block_start",
                    data: Array(#"{"type":"content_block_start","content_block":{"type":"text","text":""},"index":0}"#.utf8)
                )
            case .deltas:
                while self.tokenIndex < renderer.request.outputTokens {
                    let piece = TokenVocabulary.escapedToken(at: self.tokenIndex)
                    self.tokenIndex += 1
                    if piece.isEmpty { continue }
                    return NamedEvent.make(
                        "content_block_delta",
                        data: Array(#"{"type":"content_block_delta","delta":{"type":"text_delta","text":""#.utf8) + piece
                            + Array(#""},"index":0}"#.utf8)
                    )
                }
                self.step = .blockStop
                return self.next()
            case .blockStop:
                self.step = .messageDelta
                return NamedEvent.make("content_block_stop", data: Array(#"{"type":"content_block_stop","index":0}"#.utf8))
            case .messageDelta:
                self.step = .stop
                var data = Array(#"{"type":"message_delta","delta":{"stop_reason":"#.utf8)
                data += JSONText.quoted(renderer.stopReason) + Array(#","stop_sequence":null},"usage":"#.utf8)
                data += renderer.usage(output: renderer.request.outputTokens) + Array("}".utf8)
                return NamedEvent.make("message_delta", data: data)
            case .stop:
                self.step = .finished
                if renderer.request.faults.terminal != nil {
                    return NamedEvent.make(
                        "error",
                        data: Array(#"{"type":"error","error":{"type":"internal_error","message":"mock-vllm: injected stream error"}}"#.utf8)
                    )
                }
                return NamedEvent.make("message_stop", data: Array(#"{"type":"message_stop"}"#.utf8))
            case .finished:
                return nil
            }
        }
    }
}
