/// How the mock vLLM server listens, what it generates and which faults it injects.
///
/// Every field has a default that gives a well-behaved vLLM serving `tiny` with 8 tokens per answer,
/// bound to 127.0.0.1 on a free port.
package struct MockVLLMConfiguration: Sendable {
    /// Address to bind.
    package var host: String
    /// Port to bind; 0 picks a free port (reported through `onServerRunning`).
    package var port: Int
    /// The one served model name; requests naming another get vLLM's 404.
    package var model: String
    /// Tokens generated per completion; a request's `max_tokens` can only lower it.
    package var tokens: Int
    /// vLLM's `max_model_len`: a larger `max_tokens` gets vLLM's 400.
    package var maxModelLength: Int
    /// Pause between two stream events (after the first), to pace a stream like a real model.
    package var delay: Duration
    /// Pause before the response head of model-route and `/v1/models` requests, to trip header timeouts.
    package var headerDelay: Duration
    /// Write every body piece in several writes, split inside `data: `, inside the JSON, inside a
    /// multi-byte UTF-8 sequence and before the final `\n\n`.
    package var splitWrites: Bool
    /// After this many body pieces (stream events, replay chunks, or the single JSON body), close the
    /// connection without ending the body: a chunked body loses its terminating chunk. 0 cuts right
    /// after the response head.
    package var failAfter: Int?
    /// Answer every request to a model route (completions, Responses, Messages, speech, pooling, tokenizer)
    /// with this status and a vLLM-style error body (the Messages API's shape on its routes).
    package var forcedStatus: Int?
    /// Answer every completion request with these exact bytes instead of generating.
    package var replay: MockVLLMReplay?
    /// Largest request body accepted; larger bodies get 413.
    package var maxRequestBodySize: Int
    /// Honour the mock-only request fields of a model request (``RequestFaults``): `mock_fail_after` and
    /// `mock_delay_ms` override `failAfter` and `delay` for that request, `mock_header_delay_ms` delays its
    /// head, `mock_terminal` replaces the terminal event of a Responses or Messages stream. One server can
    /// then mix clean answers with cuts and pacing (the chaos soak). Off by default: the fields are then
    /// ignored, as vLLM ignores unknown fields.
    package var requestFaults: Bool
    /// Append one JSON line per request received to this file (see ``MockVLLMRequestLog``), so a test in
    /// another process can count what reached the upstream and match answers to requests.
    package var requestLogPath: String?
    /// Answer chat and text completions with the prompt instead of generated tokens: the last user message's
    /// text (chat) or the prompt (completions), split into up to `tokens` deltas when streamed. E2EE tests
    /// check with it that what a client encrypted reached the upstream in plaintext and came back.
    package var echo: Bool
    /// Also write each request body's text into the request log (`"body"`), so a test in another process can
    /// see exactly what reached the upstream (E2EE: plaintext, never a sealed field).
    package var requestLogBodies: Bool

    package init(
        host: String = "127.0.0.1",
        port: Int = 0,
        model: String = "tiny",
        tokens: Int = 8,
        maxModelLength: Int = 512,
        delay: Duration = .zero,
        headerDelay: Duration = .zero,
        splitWrites: Bool = false,
        failAfter: Int? = nil,
        forcedStatus: Int? = nil,
        replay: MockVLLMReplay? = nil,
        maxRequestBodySize: Int = 64 << 20,
        requestFaults: Bool = false,
        requestLogPath: String? = nil,
        echo: Bool = false,
        requestLogBodies: Bool = false
    ) {
        self.host = host
        self.port = port
        self.model = model
        self.tokens = tokens
        self.maxModelLength = maxModelLength
        self.delay = delay
        self.headerDelay = headerDelay
        self.splitWrites = splitWrites
        self.failAfter = failAfter
        self.forcedStatus = forcedStatus
        self.replay = replay
        self.maxRequestBodySize = maxRequestBodySize
        self.requestFaults = requestFaults
        self.requestLogPath = requestLogPath
        self.echo = echo
        self.requestLogBodies = requestLogBodies
    }
}
