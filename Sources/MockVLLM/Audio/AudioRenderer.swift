import NIOCore

/// Writes speech-to-text answers as vLLM 0.32 frames them: `{"text":…,"usage":{"type":"duration",…}}` for a
/// transcription, `{"text":…}` for a translation (neither has an id), and, streamed, `data:` chunks
/// (`transcription.chunk` / `translation.chunk`, id `transcribe-…` / `translate-…`) ending with
/// `data: [DONE]`, the fields vLLM leaves unset omitted. Not recorded: the captured server had no audio
/// model (`vllm-routes/error-audio-transcriptions-not-served`).
struct AudioRenderer: Sendable {
    let request: AudioRequest
    let id: String
    let created: Int
    private let streamPrefix: [UInt8]

    init(request: AudioRequest, created: Int) {
        self.request = request
        self.created = created
        self.id = CompletionID.make(prefix: request.task == .transcribe ? "transcribe-" : "translate-")
        var prefix = Array(#"{"id":"#.utf8) + JSONText.quoted(self.id)
        prefix += Array(#","object":"#.utf8)
        prefix += JSONText.quoted(request.task == .transcribe ? "transcription.chunk" : "translation.chunk")
        prefix += Array(#","created":"#.utf8)
        JSONText.appendInteger(created, to: &prefix)
        prefix += Array(#","model":"#.utf8) + JSONText.quoted(request.model)
        self.streamPrefix = prefix
    }

    /// Prompt tokens: a few per second of audio, as an encoder would produce.
    var promptTokens: Int {
        2 + 50 * self.request.seconds
    }

    func jsonBody() -> ByteBuffer {
        var body = Array(#"{"text":""#.utf8) + GeneratedText(count: self.request.outputTokens).escaped + Array(#"""#.utf8)
        if self.request.task == .transcribe {
            body += Array(#","usage":{"type":"duration","seconds":"#.utf8)
            JSONText.appendInteger(self.request.seconds, to: &body)
            body += Array("}".utf8)
        }
        body += Array("}".utf8)
        return ByteBuffer(bytes: body)
    }

    /// One chunk per token (the last with `finish_reason`), the usage chunk when asked, then `[DONE]`.
    var streamEventCount: Int {
        self.request.outputTokens + (self.request.includeUsage ? 1 : 0) + 1
    }

    func streamEvent(at index: Int) -> ByteBuffer {
        let tokens = self.request.outputTokens
        var data = Array("data: ".utf8) + self.streamPrefix
        if index < tokens {
            data += Array(#","choices":[{"delta":{"content":""#.utf8) + TokenVocabulary.escapedToken(at: index)
            data += Array((index == tokens - 1 ? #""},"finish_reason":"length","stop_reason":null}]}"# : #""}}]}"#).utf8)
        } else if index == tokens, self.request.includeUsage {
            data += Array(#","choices":[],"usage":{"prompt_tokens":"#.utf8)
            JSONText.appendInteger(self.promptTokens, to: &data)
            data += Array(#","total_tokens":"#.utf8)
            JSONText.appendInteger(self.promptTokens + tokens, to: &data)
            data += Array(#","completion_tokens":"#.utf8)
            JSONText.appendInteger(tokens, to: &data)
            data += Array("}}".utf8)
        } else {
            return ByteBuffer(string: "data: [DONE]\n\n")
        }
        data += Array("\n\n".utf8)
        return ByteBuffer(bytes: data)
    }

    func streamEvents() -> Events {
        Events(renderer: self)
    }

    struct Events: IteratorProtocol, Sendable {
        let renderer: AudioRenderer
        private var index = 0

        init(renderer: AudioRenderer) {
            self.renderer = renderer
        }

        mutating func next() -> ByteBuffer? {
            guard self.index < self.renderer.streamEventCount else { return nil }
            defer { self.index += 1 }
            return self.renderer.streamEvent(at: self.index)
        }
    }
}
