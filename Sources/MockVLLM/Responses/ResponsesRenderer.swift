import NIOCore

/// Writes a Responses API answer exactly as vLLM 0.32 frames it (`vllm-routes/responses.body`,
/// `responses-stream.body`): the same fields in the same order, compact JSON.
///
/// As in the captures, an answer cut by `max_output_tokens` has `"status":"incomplete"` and
/// `incomplete_details` `{"reason":"max_output_tokens"}`, and its stream still ends with
/// `event: response.completed`; one that ends before the limit is `completed`. The ``RequestFaults/Terminal``
/// of the request can replace that last event.
struct ResponsesRenderer: Sendable {
    let request: ResponsesRequest
    /// `resp_` and 16 hex digits.
    let id: String
    /// The output message's id: `msg_` and 16 hex digits.
    let messageID: String
    let created: Int

    init(request: ResponsesRequest, created: Int) {
        self.request = request
        self.id = CompletionID.make(prefix: "resp_")
        self.messageID = CompletionID.make(prefix: "msg_")
        self.created = created
    }

    /// The status of the finished answer.
    var finalStatus: String {
        self.request.cutByLimit ? "incomplete" : "completed"
    }

    /// The finished answer: the non-streamed body, the last event's response, and what
    /// `GET /v1/responses/{id}` returns (`vllm-routes/responses-get`, `responses-get-after-stream`).
    func jsonBody() -> ByteBuffer {
        ByteBuffer(bytes: self.responseObject(status: self.finalStatus, finished: true))
    }

    /// The immediate answer to a `background` request: `queued`, nothing generated yet.
    func queuedBody() -> ByteBuffer {
        ByteBuffer(bytes: self.responseObject(status: "queued", finished: false))
    }

    /// The stream's events, generated one by one.
    func streamEvents() -> Events {
        Events(renderer: self, text: GeneratedText(count: self.request.outputTokens))
    }

    // MARK: - Objects

    /// The response object; an unfinished one (the first two events) has no output, details or usage.
    func responseObject(status: String, finished: Bool) -> [UInt8] {
        var body = Array(#"{"id":"#.utf8) + JSONText.quoted(self.id)
        body += Array(#","created_at":"#.utf8)
        JSONText.appendInteger(self.created, to: &body)
        body += Array(#","incomplete_details":"#.utf8)
        body += Array((finished && status == "incomplete" ? #"{"reason":"max_output_tokens"}"# : "null").utf8)
        body += Array(#","instructions":"#.utf8) + Self.optional(self.request.instructions)
        body += Array(#","metadata":null,"model":"#.utf8) + JSONText.quoted(self.request.model)
        body += Array(#","object":"response","output":["#.utf8)
        if finished { body += self.outputItem(finished: true, text: GeneratedText(count: self.request.outputTokens).escaped) }
        body += Array(#"],"parallel_tool_calls":true,"temperature":"#.utf8)
        JSONText.appendFloat(self.request.temperature, to: &body)
        body += Array(#","tool_choice":"none","tools":[],"top_p":"#.utf8)
        JSONText.appendFloat(self.request.topP, to: &body)
        body += Array((self.request.background ? #","background":true,"max_output_tokens":"# : #","background":false,"max_output_tokens":"#).utf8)
        if let limit = self.request.maxOutputTokens {
            JSONText.appendInteger(limit, to: &body)
        } else {
            body += Array("null".utf8)
        }
        body += Array(#","max_tool_calls":null,"previous_response_id":"#.utf8) + Self.optional(self.request.previousResponseID)
        body += Array(#","prompt":null,"reasoning":null,"service_tier":"auto","status":"#.utf8) + JSONText.quoted(status)
        body += Array(#","text":null,"top_logprobs":null,"truncation":"disabled","usage":"#.utf8)
        if finished {
            body += self.usage()
        } else {
            body += Array("null".utf8)
        }
        body += Array(#","user":"#.utf8) + Self.optional(self.request.user)
        body += Array(
            #","presence_penalty":0.0,"frequency_penalty":0.0,"kv_transfer_params":null,"ec_transfer_params":null,"input_messages":null,"output_messages":null}"#
                .utf8
        )
        return body
    }

    /// The output message item; an unfinished one (`output_item.added`) has no content yet.
    func outputItem(finished: Bool, text: [UInt8]) -> [UInt8] {
        var item = Array(#"{"id":"#.utf8) + JSONText.quoted(self.messageID) + Array(#","content":["#.utf8)
        if finished { item += self.outputText(text, logprobs: "null") }
        item += Array(#"],"role":"assistant","status":"#.utf8)
        item += Array((finished ? #""completed""# : #""in_progress""#).utf8)
        item += Array(#","type":"message","phase":null}"#.utf8)
        return item
    }

    /// An `output_text` content part.
    func outputText(_ text: [UInt8], logprobs: String) -> [UInt8] {
        Array(#"{"annotations":[],"text":""#.utf8) + text + Array(#"","type":"output_text","logprobs":"#.utf8)
            + Array(logprobs.utf8) + Array("}".utf8)
    }

    private func usage() -> [UInt8] {
        let input = self.request.inputTokens
        let output = self.request.outputTokens
        var usage = Array(#"{"input_tokens":"#.utf8)
        JSONText.appendInteger(input, to: &usage)
        usage += Array(
            #","input_tokens_details":{"cached_tokens":0,"cache_write_tokens":0,"input_tokens_per_turn":[],"cached_tokens_per_turn":[]},"output_tokens":"#
                .utf8
        )
        JSONText.appendInteger(output, to: &usage)
        usage += Array(
            #","output_tokens_details":{"reasoning_tokens":0,"tool_output_tokens":0,"output_tokens_per_turn":[],"tool_output_tokens_per_turn":[]},"total_tokens":"#
                .utf8
        )
        JSONText.appendInteger(input + output, to: &usage)
        usage += Array("}".utf8)
        return usage
    }

    private static func optional(_ text: String?) -> [UInt8] {
        text.map { JSONText.quoted($0) } ?? Array("null".utf8)
    }
}

extension ResponsesRenderer {
    /// The events of one stream, in the captured order: `response.created`, `response.in_progress`,
    /// `response.output_item.added`, `response.content_part.added`, one `response.output_text.delta` per
    /// non-empty piece, `response.output_text.done`, `response.content_part.done`,
    /// `response.output_item.done`, then the terminal event. No `[DONE]`.
    struct Events: IteratorProtocol, Sendable {
        private enum Step {
            case created, inProgress, itemAdded, partAdded, deltas, textDone, partDone, itemDone, terminal, finished
        }

        let renderer: ResponsesRenderer
        let text: GeneratedText
        private var step = Step.created
        private var tokenIndex = 0
        private var sequence = 0

        init(renderer: ResponsesRenderer, text: GeneratedText) {
            self.renderer = renderer
            self.text = text
        }

        mutating func next() -> ByteBuffer? {
            let renderer = self.renderer
            switch self.step {
            case .created:
                self.step = .inProgress
                return self.responseEvent("response.created", status: "in_progress", finished: false)
            case .inProgress:
                self.step = .itemAdded
                return self.responseEvent("response.in_progress", status: "in_progress", finished: false)
            case .itemAdded:
                self.step = .partAdded
                return self.event(
                    "response.output_item.added",
                    Array(#"{"item":"#.utf8) + renderer.outputItem(finished: false, text: [])
                        + Array(#","output_index":0,"#.utf8)
                )
            case .partAdded:
                self.step = .deltas
                return self.event(
                    "response.content_part.added",
                    self.itemHead() + Array(#","output_index":0,"part":"#.utf8) + renderer.outputText([], logprobs: "[]")
                        + Array(",".utf8)
                )
            case .deltas:
                while self.tokenIndex < self.text.count {
                    let piece = TokenVocabulary.escapedToken(at: self.tokenIndex)
                    self.tokenIndex += 1
                    if piece.isEmpty { continue }
                    return self.event(
                        "response.output_text.delta",
                        Array(#"{"content_index":0,"delta":""#.utf8) + piece + Array(#"","item_id":"#.utf8)
                            + JSONText.quoted(renderer.messageID) + Array(#","logprobs":[],"output_index":0,"#.utf8)
                    )
                }
                self.step = .textDone
                return self.next()
            case .textDone:
                self.step = .partDone
                return self.event(
                    "response.output_text.done",
                    self.itemHead() + Array(#","logprobs":[],"output_index":0,"#.utf8),
                    tail: Array(#""text":""#.utf8) + self.text.escaped + Array(#"","#.utf8)
                )
            case .partDone:
                self.step = .itemDone
                return self.event(
                    "response.content_part.done",
                    self.itemHead() + Array(#","output_index":0,"part":"#.utf8)
                        + renderer.outputText(self.text.escaped, logprobs: "null") + Array(",".utf8)
                )
            case .itemDone:
                self.step = .terminal
                return self.event(
                    "response.output_item.done",
                    Array(#"{"item":"#.utf8) + renderer.outputItem(finished: true, text: self.text.escaped)
                        + Array(#","output_index":0,"#.utf8)
                )
            case .terminal:
                self.step = .finished
                switch renderer.request.faults.terminal {
                case nil:
                    return self.responseEvent("response.completed", status: renderer.finalStatus, finished: true)
                case .incomplete?:
                    return self.responseEvent("response.incomplete", status: "incomplete", finished: true)
                case .failed?:
                    return self.responseEvent("response.failed", status: "failed", finished: true)
                case .error?:
                    return self.event(
                        "error",
                        Array(#"{"code":"server_error","message":"mock-vllm: injected stream error","param":null,"#.utf8)
                    )
                }
            case .finished:
                return nil
            }
        }

        /// `{"content_index":0,"item_id":"msg_…"`
        private func itemHead() -> [UInt8] {
            Array(#"{"content_index":0,"item_id":"#.utf8) + JSONText.quoted(self.renderer.messageID)
        }

        private mutating func responseEvent(_ name: String, status: String, finished: Bool) -> ByteBuffer {
            self.event(
                name,
                Array(#"{"response":"#.utf8) + self.renderer.responseObject(status: status, finished: finished)
                    + Array(",".utf8)
            )
        }

        /// `head` (an open object ending in a comma) + the sequence number + `tail` + the type.
        private mutating func event(_ name: String, _ head: [UInt8], tail: [UInt8] = []) -> ByteBuffer {
            var data = head + Array(#""sequence_number":"#.utf8)
            JSONText.appendInteger(self.sequence, to: &data)
            data += Array(",".utf8) + tail + Array(#""type":"#.utf8) + JSONText.quoted(name) + Array("}".utf8)
            self.sequence += 1
            return NamedEvent.make(name, data: data)
        }
    }
}
