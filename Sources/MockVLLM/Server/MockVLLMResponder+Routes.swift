import Hummingbird
import NIOCore

/// The routes beyond chat and text completions: Responses, Messages, speech-to-text, pooling and the
/// tokenizer, each answering with the framing of the real vLLM 0.32 captures in `Fixtures/vllm-routes`.
extension MockVLLMResponder {
    /// How an error answer is worded: vLLM's OpenAI envelope, or the Messages API's
    /// (`vllm-routes/error-messages-unknown-model`).
    enum ErrorShape {
        case openAI
        case anthropic
    }

    /// What reading a request's body gave: the body, or an answer already (too large, forced status).
    enum Received {
        case body(ByteBuffer)
        case answered(Response)
    }

    /// Reads and records the body, waits the configured header delay, and answers `--status`; shared by
    /// every route with a body.
    func receive(_ request: Request, shape: ErrorShape) async throws -> Received {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: self.configuration.maxRequestBodySize)
        } catch is NIOTooManyBytesError {
            self.requestLog.map { self.log(request, to: $0, body: nil, id: nil) }
            return .answered(Self.error(.bodyTooLarge(limit: self.configuration.maxRequestBodySize), shape: shape))
        }
        self.stats.recordAPIRequest(path: request.uri.path, headers: request.headers, body: body, isCompletion: false)
        try await self.waitBeforeHead()
        if let status = self.configuration.forcedStatus {
            self.requestLog.map { self.log(request, to: $0, body: body, id: nil) }
            return .answered(Self.error(.forced(status: status), shape: shape))
        }
        return .body(body)
    }

    /// An error answer in the route's shape. vLLM words request validation errors (type `Bad Request`)
    /// in the OpenAI envelope on every route, the Messages API's own errors in its shape.
    static func error(_ error: VLLMErrorResponse, shape: ErrorShape) -> Response {
        guard shape == .anthropic, error.type != "Bad Request" else { return Self.error(error) }
        return Self.json(status: error.status, body: ByteBuffer(bytes: error.anthropicBody))
    }

    /// Logs the request with its body and answer id, then answers: a stream of `events`, or the JSON `body`.
    func answer<Events: IteratorProtocol<ByteBuffer> & Sendable>(
        _ request: Request,
        body requestBody: ByteBuffer,
        id: String?,
        faults: RequestFaults,
        stream events: Events?,
        json: @autoclosure () -> ByteBuffer,
        context: Context
    ) async throws -> Response {
        self.requestLog.map { self.log(request, to: $0, body: requestBody, id: id) }
        let configuration = faults.applied(to: self.configuration)
        if let headerDelay = faults.headerDelay { try await Task.sleep(for: headerDelay) }
        if let events {
            let delivery = BodyDelivery(configuration: configuration, stats: self.stats, countsAsStream: true, channel: context.channel)
            return Response(
                status: .ok,
                headers: Self.eventStreamHeaders,
                body: ResponseBody { writer in
                    try await delivery.deliver(events, to: &writer)
                }
            )
        }
        return self.piecewise(
            status: .ok,
            headers: Self.jsonHeaders,
            pieces: [json()],
            isEventStream: false,
            configuration: configuration,
            channel: context.channel
        )
    }

    /// Answers a request that failed validation (logged without an id).
    func reject(_ request: Request, body: ByteBuffer, error: VLLMErrorResponse, shape: ErrorShape = .openAI) -> Response {
        self.requestLog.map { self.log(request, to: $0, body: body, id: nil) }
        return Self.error(error, shape: shape)
    }

    // MARK: - Responses API

    /// `POST /v1/responses`; a stored answer (`store`, the default) can be fetched again.
    func responses(request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        switch try await self.receive(request, shape: .openAI) {
        case .body(let value): body = value
        case .answered(let response): return response
        }
        let parsed: ResponsesRequest
        switch ResponsesRequest.parse(body: body, configuration: self.configuration) {
        case .success(let value): parsed = value
        case .failure(let error): return self.reject(request, body: body, error: error)
        }
        self.stats.recordTokens(prompt: parsed.inputTokens, generated: parsed.outputTokens)
        let renderer = ResponsesRenderer(request: parsed, created: Self.unixTime())
        if parsed.store {
            self.responseStore.store(id: renderer.id, body: Array(renderer.jsonBody().readableBytesView))
        }
        return try await self.answer(
            request,
            body: body,
            id: renderer.id,
            faults: parsed.faults,
            stream: parsed.stream && !parsed.background ? renderer.streamEvents() : nil,
            json: parsed.background ? renderer.queuedBody() : renderer.jsonBody(),
            context: context
        )
    }

    /// `GET /v1/responses/{id}` and `POST /v1/responses/{id}/cancel`, with vLLM's errors for an id that
    /// does not start with `resp` (400), an unknown one (404), and cancelling a finished answer (400).
    func storedResponse(path: String, request: Request) -> Response {
        let rest = path.dropFirst("/v1/responses/".count)
        let pieces = rest.split(separator: "/", omittingEmptySubsequences: false)
        let cancel: Bool
        switch pieces.count {
        case 1: cancel = false
        case 2 where pieces[1] == "cancel": cancel = true
        default: return Self.notFound
        }
        guard request.method == (cancel ? .post : .get) else { return Self.methodNotAllowed }
        let id = String(pieces[0])
        guard !id.isEmpty else { return Self.notFound }
        guard id.hasPrefix("resp") else { return Self.error(.invalidResponseID(id)) }
        guard let body = self.responseStore.body(of: id) else { return Self.error(.responseNotFound(id)) }
        if cancel { return Self.error(.cannotCancelSynchronous) }
        return Self.json(status: 200, body: ByteBuffer(bytes: body))
    }

    // MARK: - Messages API

    /// `POST /v1/messages` and `/v1/messages/count_tokens`.
    func messages(request: Request, context: Context, countingOnly: Bool) async throws -> Response {
        let body: ByteBuffer
        switch try await self.receive(request, shape: .anthropic) {
        case .body(let value): body = value
        case .answered(let response): return response
        }
        let parsed: MessagesRequest
        switch MessagesRequest.parse(body: body, countingOnly: countingOnly, configuration: self.configuration) {
        case .success(let value): parsed = value
        case .failure(let error): return self.reject(request, body: body, error: error, shape: .anthropic)
        }
        if countingOnly {
            return try await self.answer(
                request,
                body: body,
                id: nil,
                faults: parsed.faults,
                stream: nil as MessagesRenderer.Events?,
                json: MessagesRenderer.countBody(inputTokens: parsed.inputTokens),
                context: context
            )
        }
        self.stats.recordTokens(prompt: parsed.inputTokens, generated: parsed.outputTokens)
        let renderer = MessagesRenderer(request: parsed)
        return try await self.answer(
            request,
            body: body,
            id: renderer.id,
            faults: parsed.faults,
            stream: parsed.stream ? renderer.streamEvents() : nil,
            json: renderer.jsonBody(),
            context: context
        )
    }

    // MARK: - Speech to text

    /// `POST /v1/audio/transcriptions` and `/v1/audio/translations` (multipart).
    func audio(_ task: AudioRequest.Task, request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        switch try await self.receive(request, shape: .openAI) {
        case .body(let value): body = value
        case .answered(let response): return response
        }
        let parsed: AudioRequest
        switch AudioRequest.parse(body: body, contentType: request.headers[.contentType], task: task, configuration: self.configuration) {
        case .success(let value): parsed = value
        case .failure(let error): return self.reject(request, body: body, error: error)
        }
        let renderer = AudioRenderer(request: parsed, created: Self.unixTime())
        self.stats.recordTokens(prompt: renderer.promptTokens, generated: parsed.outputTokens)
        return try await self.answer(
            request,
            body: body,
            id: parsed.stream ? renderer.id : nil,
            faults: parsed.faults,
            stream: parsed.stream ? renderer.streamEvents() : nil,
            json: renderer.jsonBody(),
            context: context
        )
    }

    // MARK: - Pooling and tokenizer

    /// `POST /v1/embeddings`, `/pooling`, `/classify`, `/score`, `/rerank` and their aliases.
    func pooling(_ kind: PoolingRequest.Kind, request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        switch try await self.receive(request, shape: .openAI) {
        case .body(let value): body = value
        case .answered(let response): return response
        }
        let parsed: PoolingRequest
        switch PoolingRequest.parse(body: body, kind: kind, configuration: self.configuration) {
        case .success(let value): parsed = value
        case .failure(let error): return self.reject(request, body: body, error: error)
        }
        let renderer = PoolingRenderer(request: parsed, created: Self.unixTime())
        self.stats.recordTokens(prompt: renderer.promptTokens, generated: 0)
        return try await self.answer(
            request,
            body: body,
            id: renderer.id,
            faults: parsed.faults,
            stream: nil as AudioRenderer.Events?,
            json: renderer.jsonBody(),
            context: context
        )
    }

    /// `POST /tokenize` and `/detokenize`: JSON without an id.
    func tokenizer(detokenize: Bool, request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        switch try await self.receive(request, shape: .openAI) {
        case .body(let value): body = value
        case .answered(let response): return response
        }
        let result =
            detokenize
            ? ByteTokenizer.detokenize(body: body, configuration: self.configuration)
            : ByteTokenizer.tokenize(body: body, configuration: self.configuration)
        switch result {
        case .success(let answer):
            return try await self.answer(
                request, body: body, id: nil, faults: RequestFaults(), stream: nil as AudioRenderer.Events?, json: answer,
                context: context
            )
        case .failure(let error):
            return self.reject(request, body: body, error: error)
        }
    }
}
