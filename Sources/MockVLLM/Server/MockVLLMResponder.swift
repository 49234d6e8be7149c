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
    /// Where each request is logged, when ``MockVLLMConfiguration/requestLogPath`` is set.
    var requestLog: MockVLLMRequestLog? = nil

    func respond(to request: Request, context: Context) async throws -> Response {
        self.stats.recordRequest()
        if let requestLog = self.requestLog, !Self.completionPaths.contains(request.uri.path) || request.method != .post {
            // Completions are logged once their body is read, with the id they are answered with.
            self.log(request, to: requestLog, body: nil, id: nil)
        }
        switch request.uri.path {
        case "/v1/chat/completions":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.completion(.chat, request: request, context: context)
        case "/v1/completions":
            guard request.method == .post else { return Self.methodNotAllowed }
            return try await self.completion(.text, request: request, context: context)
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
        default:
            return Self.notFound
        }
    }

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

    private func log(_ request: Request, to requestLog: MockVLLMRequestLog, body: ByteBuffer?, id: String?) {
        requestLog.record(
            method: request.method.rawValue,
            path: request.uri.path,
            contentLength: request.headers[.contentLength],
            transferEncoding: request.headers[.transferEncoding],
            body: body.map { Array($0.readableBytesView) },
            id: id
        )
    }

    private static let completionPaths: Set<String> = ["/v1/chat/completions", "/v1/completions"]

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
    private func piecewise(
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

    private func waitBeforeHead() async throws {
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

    private static func json(status: Int, body: ByteBuffer) -> Response {
        Response(
            status: Self.status(status),
            headers: Self.jsonHeaders,
            body: .init(byteBuffer: body)
        )
    }

    private static func status(_ code: Int) -> HTTPResponse.Status {
        HTTPResponse.Status(code: code, reasonPhrase: VLLMErrorResponse.reasonPhrase(for: code) ?? "")
    }

    private static func error(_ error: VLLMErrorResponse) -> Response {
        Self.json(status: error.status, body: ByteBuffer(bytes: error.body))
    }

    /// FastAPI's answer for an unknown route.
    private static let notFound = Self.json(status: 404, body: ByteBuffer(string: #"{"detail":"Not Found"}"#))
    /// FastAPI's answer for a known route with the wrong method.
    private static let methodNotAllowed = Self.json(status: 405, body: ByteBuffer(string: #"{"detail":"Method Not Allowed"}"#))

    private static let plainHeaders: HTTPFields = [.vary: "Origin"]
    private static let jsonHeaders: HTTPFields = [.contentType: "application/json", .vary: "Origin"]
    private static let eventStreamHeaders: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .vary: "Origin"]
    private static let metricsHeaders: HTTPFields = [.contentType: "text/plain; version=0.0.4; charset=utf-8"]

    private static func unixTime() -> Int {
        Int(Date().timeIntervalSince1970)
    }
}
