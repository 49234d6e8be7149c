import Hummingbird
import Logging
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Answers every route of the mock vLLM server; routing is a switch on the path, the hot path stays short.
struct MockVLLMResponder: HTTPResponder {
    typealias Context = MockVLLMRequestContext

    let configuration: MockVLLMConfiguration
    let stats: MockVLLMStats
    /// The Responses API answers kept for `GET /v1/responses/{id}`.
    let responseStore = ResponseStore()
    /// Where each request is logged, when ``MockVLLMConfiguration/requestLogPath`` is set.
    var requestLog: MockVLLMRequestLog? = nil

    func respond(to request: Request, context: Context) async throws -> Response {
        self.stats.recordRequest()
        let path = request.uri.path
        if let requestLog = self.requestLog, !Self.bodyPaths.contains(path) || request.method != .post {
            // Requests with a body are logged once it is read, with the id they are answered with.
            self.log(request, to: requestLog, body: nil, id: nil)
        }
        switch path {
        case "/v1/chat/completions":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.completion(.chat, request: request, context: context)
        case "/v1/completions":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.completion(.text, request: request, context: context)
        case "/v1/responses":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.responses(request: request, context: context)
        case "/v1/messages", "/v1/messages/count_tokens":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.messages(request: request, context: context, countingOnly: path.hasSuffix("/count_tokens"))
        case "/v1/audio/transcriptions", "/v1/audio/translations":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.audio(path.hasSuffix("/transcriptions") ? .transcribe : .translate, request: request, context: context)
        case _ where Self.poolingRoutes[path] != nil:
            guard request.method == .post, let kind = Self.poolingRoutes[path] else { return Self.methodNotAllowed }
            return try await self.pooling(kind, request: request, context: context)
        case "/tokenize", "/detokenize":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.tokenizer(detokenize: path == "/detokenize", request: request, context: context)
        case _ where Self.adminPaths.contains(path):
            guard request.method == .post else { return Self.methodNotAllowed }
            self.stats.recordAdminRequest()
            return Response(status: .ok, headers: Self.plainHeaders)
        case "/is_sleeping":
            guard request.method == .get else { return Self.methodNotAllowed }
            self.stats.recordAdminRequest()
            return Self.json(status: 200, body: ByteBuffer(string: #"{"is_sleeping":false}"#))
        case "/v1/models":
            guard request.method == .get else { return Self.methodNotAllowed }
            self.stats.recordAPIRequest(path: "/v1/models", headers: request.headers, body: ByteBuffer(), isCompletion: false)
            try await self.waitBeforeHead()
            return Self.json(status: 200, body: self.modelsBody())
        case "/health":
            guard request.method == .get else { return Self.methodNotAllowed }
            return Response(status: .ok, headers: Self.plainHeaders)
        case "/metrics":
            guard request.method == .get else { return Self.methodNotAllowed }
            return Response(status: .ok, headers: Self.metricsHeaders, body: .init(byteBuffer: self.metricsBody()))
        case _ where path.count > 1 && path.hasSuffix("/") && Self.servedPaths.contains(String(path.dropLast())):
            return Self.redirectWithoutSlash(request)
        case _ where path.hasPrefix("/v1/responses/"):
            return self.storedResponse(path: path, request: request)
        default:
            return Self.notFound
        }
    }

    /// Every fixed path the mock serves.
    static let servedPaths = Self.bodyPaths.union(Self.adminPaths).union(["/v1/models", "/health", "/metrics", "/is_sleeping"])

    /// FastAPI's answer to a served path with a trailing slash (`vllm-routes/chat-trailing-slash`): a 307 with
    /// an empty body to the absolute URL without the slash, at the address the request was sent to.
    static func redirectWithoutSlash(_ request: Request) -> Response {
        let host = request.head.authority ?? "127.0.0.1"
        var location = "http://\(host)\(request.uri.path.dropLast())"
        if let query = request.uri.query, !query.isEmpty { location += "?" + query }
        return Response(
            status: .init(code: 307, reasonPhrase: "Temporary Redirect"),
            headers: [.location: location, .vary: "Origin"]
        )
    }

    /// The routes whose request body is read (and logged with it).
    static let bodyPaths = Set<String>([
        "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens",
        "/v1/audio/transcriptions", "/v1/audio/translations", "/tokenize", "/detokenize",
    ]).union(Self.poolingRoutes.keys)

    /// vLLM's pooling routes, as it serves them.
    static let poolingRoutes: [String: PoolingRequest.Kind] = [
        "/v1/embeddings": .embeddings,
        "/pooling": .pooling,
        "/classify": .classify,
        "/score": .score, "/v1/score": .score,
        "/rerank": .rerank, "/v1/rerank": .rerank, "/v2/rerank": .rerank,
    ]

    /// vLLM's administrative routes (development mode): they answer 200 with no body here, and count in
    /// ``MockVLLMStats/Snapshot/adminRequests``, so a test can tell whether one reached the upstream.
    static let adminPaths: Set<String> = [
        "/sleep", "/wake_up", "/reset_prefix_cache", "/reset_mm_cache", "/collective_rpc", "/scale_elastic_ep",
        "/is_scaling_elastic_ep", "/load_lora_adapter", "/unload_lora_adapter", "/start_profile", "/stop_profile",
        "/pause", "/resume",
    ]

    // MARK: - Completions

    private func completion(
        _ kind: CompletionRequest.Kind,
        request: Request,
        context: Context
    ) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: self.configuration.maxRequestBodySize)
        } catch is NIOTooManyBytesError {
            self.requestLog.map { self.log(request, to: $0, body: nil, id: nil) }
            return Self.error(.bodyTooLarge(limit: self.configuration.maxRequestBodySize))
        }
        self.stats.recordAPIRequest(path: request.uri.path, headers: request.headers, body: body, isCompletion: true)
        try await self.waitBeforeHead()

        if let status = self.configuration.forcedStatus {
            self.requestLog.map { self.log(request, to: $0, body: body, id: nil) }
            return Self.error(.forced(status: status))
        }
        if let replay = self.configuration.replay {
            self.requestLog.map { self.log(request, to: $0, body: body, id: nil) }
            return self.replayResponse(replay, channel: context.channel)
        }

        let parsed: CompletionRequest
        switch CompletionRequest.parse(body: body, kind: kind, configuration: self.configuration) {
        case .success(let value): parsed = value
        case .failure(let error):
            self.requestLog.map { self.log(request, to: $0, body: body, id: nil) }
            return Self.error(error)
        }
        self.stats.recordTokens(prompt: parsed.promptTokens, generated: parsed.completionTokens)
        let renderer = CompletionRenderer(request: parsed, id: CompletionID.make(for: kind), created: Self.unixTime())
        self.requestLog.map { self.log(request, to: $0, body: body, id: renderer.id) }
        let configuration = parsed.effective(self.configuration)
        if let headerDelay = parsed.faultHeaderDelay { try await Task.sleep(for: headerDelay) }

        if parsed.stream {
            let delivery = BodyDelivery(
                configuration: configuration,
                stats: self.stats,
                countsAsStream: true,
                channel: context.channel
            )
            return Response(
                status: .ok,
                headers: Self.eventStreamHeaders,
                body: ResponseBody { writer in
                    try await delivery.deliver(renderer.streamEvents(), to: &writer)
                }
            )
        }
        return self.piecewise(
            status: .ok,
            headers: Self.jsonHeaders,
            pieces: [renderer.jsonBody()],
            isEventStream: false,
            configuration: configuration,
            channel: context.channel
        )
    }

    func log(_ request: Request, to requestLog: MockVLLMRequestLog, body: ByteBuffer?, id: String?) {
        requestLog.record(
            method: request.method.rawValue,
            path: request.uri.path,
            contentLength: request.headers[.contentLength],
            transferEncoding: request.headers[.transferEncoding],
            body: body.map { Array($0.readableBytesView) },
            id: id
        )
    }

    private func replayResponse(_ replay: MockVLLMReplay, channel: any Channel) -> Response {
        var headers = Self.plainHeaders
        headers[.contentType] = replay.contentType
        return self.piecewise(
            status: Self.status(replay.status),
            headers: headers,
            pieces: replay.pieces,
            isEventStream: replay.isEventStream,
            configuration: self.configuration,
            channel: channel
        )
    }

    /// A body of known pieces: chunked for an event stream, with `content-length` otherwise; a single
    /// buffer when no pacing or fault applies.
    func piecewise(
        status: HTTPResponse.Status,
        headers: HTTPFields,
        pieces: [ByteBuffer],
        isEventStream: Bool,
        configuration: MockVLLMConfiguration,
        channel: any Channel
    ) -> Response {
        let length = pieces.reduce(0) { $0 + $1.readableBytes }
        let plain = configuration.failAfter == nil && !configuration.splitWrites
        if !isEventStream, plain, pieces.count <= 1 {
            return Response(status: status, headers: headers, body: .init(byteBuffer: pieces.first ?? ByteBuffer()))
        }
        let delivery = BodyDelivery(
            configuration: configuration,
            stats: self.stats,
            countsAsStream: isEventStream,
            channel: channel
        )
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(contentLength: isEventStream ? nil : length) { writer in
                try await delivery.deliver(pieces.makeIterator(), to: &writer)
            }
        )
    }

    func waitBeforeHead() async throws {
        if self.configuration.headerDelay > .zero {
            try await Task.sleep(for: self.configuration.headerDelay)
        }
    }

    // MARK: - Other routes

    /// `GET /v1/models` in vLLM's shape (`models.body`) for the configured model.
    private func modelsBody() -> ByteBuffer {
        let created = Self.unixTime()
        let model = JSONText.quoted(self.configuration.model)
        var body = Array(#"{"object":"list","data":[{"id":"#.utf8) + model
        body += Array(#","object":"model","created":"#.utf8)
        JSONText.appendInteger(created, to: &body)
        body += Array(#","owned_by":"vllm","root":"#.utf8) + JSONText.quoted("/models/" + self.configuration.model)
        body += Array(#","parent":null,"max_model_len":"#.utf8)
        JSONText.appendInteger(self.configuration.maxModelLength, to: &body)
        body += Array(#","permission":[{"id":"#.utf8) + JSONText.quoted(CompletionID.make(prefix: "modelperm-"))
        body += Array(#","object":"model_permission","created":"#.utf8)
        JSONText.appendInteger(created, to: &body)
        body += Array(
            #","allow_create_engine":false,"allow_sampling":true,"allow_logprobs":true,"allow_search_indices":false,"allow_view":true,"allow_fine_tuning":false,"organization":"*","group":null,"is_blocking":false}]}]}"#
                .utf8
        )
        return ByteBuffer(bytes: body)
    }

    /// `GET /metrics`: a few of vLLM's Prometheus series, fed by the stats.
    private func metricsBody() -> ByteBuffer {
        let snapshot = self.stats.snapshot
        let label = "{model_name=\"\(Self.prometheusLabelValue(self.configuration.model))\"}"
        let series: [(name: String, help: String, type: String, value: Int)] = [
            ("vllm:num_requests_running", "Number of requests in model execution batches.", "gauge", snapshot.activeStreams),
            ("vllm:num_requests_waiting", "Number of requests waiting to be processed.", "gauge", 0),
            ("vllm:prompt_tokens_total", "Number of prefill tokens processed.", "counter", snapshot.promptTokens),
            ("vllm:generation_tokens_total", "Number of generation tokens processed.", "counter", snapshot.generatedTokens),
        ]
        var text = ""
        for metric in series {
            text += "# HELP \(metric.name) \(metric.help)\n# TYPE \(metric.name) \(metric.type)\n"
            text += "\(metric.name)\(label) \(metric.value).0\n"
        }
        return ByteBuffer(string: text)
    }

    private static func prometheusLabelValue(_ value: String) -> String {
        value.replacing("\\", with: "\\\\")
            .replacing("\"", with: "\\\"")
            .replacing("\n", with: "\\n")
    }

    // MARK: - Canned responses

    static func json(status: Int, body: ByteBuffer) -> Response {
        Response(
            status: Self.status(status),
            headers: Self.jsonHeaders,
            body: .init(byteBuffer: body)
        )
    }

    static func status(_ code: Int) -> HTTPResponse.Status {
        HTTPResponse.Status(code: code, reasonPhrase: VLLMErrorResponse.reasonPhrase(for: code) ?? "")
    }

    static func error(_ error: VLLMErrorResponse) -> Response {
        Self.json(status: error.status, body: ByteBuffer(bytes: error.body))
    }

    /// FastAPI's answer for an unknown route.
    static let notFound = Self.json(status: 404, body: ByteBuffer(string: #"{"detail":"Not Found"}"#))
    /// FastAPI's answer for a known route with the wrong method.
    static let methodNotAllowed = Self.json(status: 405, body: ByteBuffer(string: #"{"detail":"Method Not Allowed"}"#))

    static let plainHeaders: HTTPFields = [.vary: "Origin"]
    static let jsonHeaders: HTTPFields = [.contentType: "application/json", .vary: "Origin"]
    static let eventStreamHeaders: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .vary: "Origin"]
    private static let metricsHeaders: HTTPFields = [.contentType: "text/plain; version=0.0.4; charset=utf-8"]

    static func unixTime() -> Int {
        Int(Date().timeIntervalSince1970)
    }
}
