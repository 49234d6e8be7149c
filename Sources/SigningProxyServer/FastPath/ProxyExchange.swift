import Logging
import NIOCore
import NIOHTTP1
import SigningCore

/// One request on the fast path, from its head to the last byte of its response, on one event loop.
///
/// A proxied route (`RouteTable`) is hashed over the exact bytes received and sent, and a clean exchange
/// on a signed route is recorded with the notary before its last bytes are written (docs/API.md,
/// Completions, Routes and Signatures); `/v1/models` and the unsigned routes are relayed as they are.
final class ProxyExchange: UpstreamConnectionDelegate {
    private enum State {
        case readingRequest
        case connecting
        case awaitingHead
        /// Buffering a whole upstream body: a non-streamed completion, an error answer, or the models list.
        case collecting(status: Int)
        /// Relaying an event stream. Its head waits in `pendingHead` until the first bytes go out
        /// with it, so a stream that dies before any byte still gets a proper 502 or 504.
        case streaming(pendingHead: HTTPResponseHead?)
        /// A signature lookup whose record is being published (its answer's last bytes are being written).
        case awaitingRecord
        case done
    }

    private let services: FastPathServices
    private let route: FastPathServices.Route
    private let head: HTTPRequestHead
    private let client: FastPathRouter
    private let eventLoop: any EventLoop
    private var logger: Logger { services.logger }

    private var state = State.readingRequest
    private var requestBody: ByteBuffer?
    private var requestBytes = 0
    private var rejection: OpenAIError?
    private var requestHash = ""
    private var closeAfterResponse: Bool

    private var upstream: UpstreamConnection?
    private var pool: UpstreamPool?
    private var reusedConnection = false
    private var retried = false
    private var upstreamKeepAlive = false
    private var upstreamSentSomething = false
    private var upstreamContentType: String?
    private var collected: ByteBuffer?
    private var stream = StreamingExchange()

    private static let e2eeHeaders = [
        "X-Signing-Algo", "X-Client-Pub-Key", "X-Model-Pub-Key", "X-E2EE-Version", "X-E2EE-Nonce",
        "X-E2EE-Timestamp",
    ]

    init(services: FastPathServices, route: FastPathServices.Route, head: HTTPRequestHead, client: FastPathRouter, eventLoop: any EventLoop) {
        self.services = services
        self.route = route
        self.head = head
        self.client = client
        self.eventLoop = eventLoop
        self.closeAfterResponse = !head.isKeepAlive
        services.live.exchanges.add(1, ordering: .relaxed)
    }

    deinit {
        services.live.exchanges.subtract(1, ordering: .relaxed)
    }

    var version: HTTPVersion { head.version }
    var method: HTTPMethod { head.method }

    /// The error shape this request's client parses.
    var envelope: ProxyRoute.Envelope {
        if case .proxied(let proxied) = route { return proxied.envelope }
        return .openAI
    }

    // MARK: Request

    /// Checks what can be checked before any body byte is read.
    /// - Parameter declaresBody: the head announces body bytes.
    /// - Returns: an error to answer at once, without reading the body (the connection then closes);
    ///   nil to read the request on.
    func requestHead(declaresBody: Bool) -> OpenAIError? {
        guard case .proxied(let proxied) = route else {
            // Only proxied routes take a body: any other is refused before a byte of it is held.
            if declaresBody {
                switch route {
                case .wrongMethod: return .methodNotAllowed
                case .notServed: return .routeNotFound
                // Answered like vLLM once the body is in; `requestBody` reads it without keeping it.
                case .redirect: return nil
                default: return .bodyNotAllowed
                }
            }
            return nil
        }
        services.metrics.increment(.completionRequests)
        do {
            try services.authenticator.authenticate(
                authorization: head.headers.first(name: "authorization"), apiKey: head.headers.first(name: "x-api-key"))
        } catch {
            // No body from an unauthenticated client is ever held, or even read.
            if declaresBody { return error }
            rejection = error
            return nil
        }
        switch proxied.body {
        case .none:
            if declaresBody { return .bodyNotAllowed }
        case .multipart:
            // vLLM parses the parts; a body that cannot be multipart is refused before it is read.
            let type = head.headers.first(name: "content-type")?.lowercased() ?? ""
            guard type.hasPrefix("multipart/form-data"), type.contains("boundary=") else {
                if declaresBody { return .multipartRequired }
                rejection = .multipartRequired
                return nil
            }
        case .json:
            break
        }
        if let declared = head.headers.first(name: "content-length").flatMap({ Int($0) }), declared > services.configuration.maxRequestSize {
            return .payloadTooLarge(limit: services.configuration.maxRequestSize)
        }
        return nil
    }

    /// Gathers a body part.
    /// - Returns: an error to answer at once (the body outgrew the limit), or nil.
    func requestBody(_ buffer: ByteBuffer) -> OpenAIError? {
        guard case .readingRequest = state, rejection == nil else { return nil }
        requestBytes += buffer.readableBytes
        if requestBytes > services.configuration.maxRequestSize {
            requestBody = nil
            return .payloadTooLarge(limit: services.configuration.maxRequestSize)
        }
        guard case .proxied = route else { return nil }
        Self.append(buffer, to: &requestBody)
        return nil
    }

    /// The request will never complete (refused mid-body, malformed, or too slow): nothing is sent upstream.
    func requestAborted() {
        state = .done
        requestBody = nil
    }

    /// Adds a received piece to a body being gathered. Usually the whole body arrives in one buffer,
    /// which is kept as it is, with no copy.
    private static func append(_ buffer: ByteBuffer, to body: inout ByteBuffer?) {
        if body == nil {
            body = buffer
        } else {
            var incoming = buffer
            body!.writeBuffer(&incoming)
        }
    }

    func requestEnd() {
        guard case .readingRequest = state else { return }
        switch route {
        case .wrongMethod:
            respond(OpenAIError.methodNotAllowed)
        case .signature(let chatID, let algorithm):
            answerSignature(chatID: chatID, algorithm: algorithm, until: eventLoop.now + Self.publicationWait, retryIn: .milliseconds(1))
        case .models:
            sendUpstream()
        case .redirect(let location):
            respondRedirect(to: location)
        case .notServed:
            respond(OpenAIError.routeNotFound)
        case .proxied(let proxied):
            do {
                try checkProxiedRequest(proxied)
            } catch {
                services.metrics.increment(.rejectedRequests)
                respond(error)
                return
            }
            sendUpstream()
        }
    }

    /// How long a lookup waits for a record that is being published.
    static let publicationWait = TimeAmount.seconds(2)

    /// Answers a signature lookup; one whose record is still being published waits for it (backing off
    /// from 1 ms to 50 ms), so a client that has read its answer's last byte always finds the signature.
    private func answerSignature(chatID: String, algorithm: String?, until deadline: NIODeadline, retryIn delay: TimeAmount) {
        let authorization = head.headers.first(name: "authorization")
        if services.notary.lookup(chatID) == nil, services.notary.isPending(chatID), eventLoop.now < deadline,
            (try? services.authenticator.authenticate(authorization: authorization)) != nil
        {
            state = .awaitingRecord
            eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
                guard case .awaitingRecord = state else { return }
                answerSignature(chatID: chatID, algorithm: algorithm, until: deadline, retryIn: min(delay * 2, .milliseconds(50)))
            }
            return
        }
        do {
            let body = try services.signatures.answer(chatID: chatID, algorithm: algorithm, authorization: authorization, logger: logger)
            respond(status: 200, body: body)
        } catch {
            respond(error)
        }
    }

    /// The request checks of docs/API.md, Completions, in the order the Python proxy applies them.
    private func checkProxiedRequest(_ proxied: ProxyRoute) throws(OpenAIError) {
        if let rejection { throw rejection }
        let body = requestBody ?? ByteBuffer()
        switch proxied.body {
        case .json:
            guard JSONCheck.isObject(body) else { throw OpenAIError.invalidJSON }
        case .multipart, .none:
            break
        }
        // An encrypted request can be neither read by vLLM nor forwarded in the clear.
        if Self.e2eeHeaders.contains(where: { head.headers.contains(name: $0) }) { throw OpenAIError.e2eeUnsupported }
        guard proxied.isSigned else { return }
        // Every caller that passed authentication holds a TOKEN token and is privileged (docs/API.md, `X-Request-Hash`).
        requestHash = try Self.requestHashOverride(head.headers.first(name: "x-request-hash")) ?? StreamDigest.hex(of: body)
    }

    /// `X-Request-Hash`: exactly 64 hex characters after trimming, lowercased (docs/API.md, `X-Request-Hash`).
    static func requestHashOverride(_ raw: String?) throws(OpenAIError) -> String? {
        guard let raw else { return nil }
        let value = raw.trimmingWhitespace().lowercased()
        guard value.utf8.count == 64, value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { throw .invalidRequestHash }
        return value
    }

    // MARK: Upstream

    private func sendUpstream(fresh: Bool = false) {
        state = .connecting
        let pool = services.pools.pool(for: eventLoop)
        self.pool = pool
        pool.acquire(fresh: fresh) { [self] result in
            switch result {
            case .success(let (connection, reused)):
                guard case .connecting = state else {
                    // The client left while connecting; the connection is untouched and reusable.
                    pool.release(connection, reusable: true)
                    return
                }
                upstream = connection
                reusedConnection = reused
                connection.delegate = self
                // Only a proxied route has a body to forward; every other route sends none (framing is the connection's).
                let body: ByteBuffer?
                if case .proxied = route { body = requestBody } else { body = nil }
                connection.send(upstreamHead(), body: body, idleLimit: services.upstreamTimeout)
                if retried || !reused {
                    // Nothing left to retry with: let the client connection's receive buffer be reused.
                    requestBody = nil
                }
                state = .awaitingHead
            case .failure(let error):
                guard case .connecting = state else { return }
                services.metrics.increment(.upstreamErrors)
                logger.warning("upstream unavailable", metadata: ["error": "\(error)"])
                respond(OpenAIError.upstreamUnavailable)
            }
        }
    }

    /// Nothing from the client's headers is forwarded: not its token, not X-Request-Id (which would let
    /// callers choose completion ids), no hop-by-hop headers.
    private func upstreamHead() -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "Host", value: services.target?.hostHeader ?? "")
        headers.add(name: "Accept", value: "application/json")
        let method: HTTPMethod
        let path: String
        switch route {
        case .proxied(let proxied):
            (method, path) = (proxied.method, proxied.upstreamPath)
            switch proxied.body {
            case .json:
                headers.add(name: "Content-Type", value: "application/json")
            case .multipart:
                // The boundary is in the client's type; requestHead checked it is multipart.
                headers.add(name: "Content-Type", value: head.headers.first(name: "content-type") ?? "")
            case .none:
                break
            }
        case .models, .wrongMethod, .signature, .redirect, .notServed:
            (method, path) = (.GET, "/v1/models")
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: (services.target?.basePath ?? "") + path, headers: headers)
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        upstreamSentSomething = true
        switch part {
        case .head(let response):
            guard case .awaitingHead = state else { return }
            // An answer has begun, so there is no retry: let go of the body (and the receive buffer it is a slice of).
            requestBody = nil
            upstreamKeepAlive = response.isKeepAlive
            let status = Int(response.status.code)
            // Only a final status that may carry a body can be passed on with one: anything else (a
            // status outside 200...599, or 204/304, whose head ends the response) would desynchronise
            // the client's parser. vLLM never sends one; a broken upstream gets the 502 envelope.
            guard (200...599).contains(status), status != 204, status != 304 else {
                services.metrics.increment(.upstreamErrors)
                logger.warning("upstream sent a status that cannot be passed on", metadata: ["status": "\(status)"])
                dropUpstream()
                respond(OpenAIError.upstreamUnavailable)
                return
            }
            guard case .proxied(let proxied) = route else {
                state = .collecting(status: status)
                return
            }
            upstreamContentType = response.headers.first(name: "content-type")
            if status != 200 {
                services.metrics.increment(.upstreamStatusErrors)
                state = .collecting(status: status)
            } else if response.headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") == true {
                services.metrics.increment(.streamingResponses)
                stream = StreamingExchange(grammar: proxied.streamGrammar)
                // HTTP/1.0 has no chunked encoding: the stream ends when the connection does.
                if head.version.major == 1 && head.version.minor == 0 { closeAfterResponse = true }
                state = .streaming(pendingHead: HTTPResponseHead(version: head.version, status: .ok, headers: streamHeaders()))
            } else {
                services.metrics.increment(.jsonResponses)
                state = .collecting(status: 200)
            }
        case .body(let buffer):
            switch state {
            case .streaming(let pendingHead):
                if case .forward(let forwarded) = stream.consume(buffer) {
                    if let pendingHead {
                        client.writeHead(pendingHead)
                        state = .streaming(pendingHead: nil)
                    }
                    client.writeBody(forwarded)
                }
            case .collecting:
                Self.append(buffer, to: &collected)
                if let collected, collected.readableBytes > services.configuration.maxUpstreamResponseSize {
                    services.metrics.increment(.upstreamErrors)
                    logger.warning("upstream body over the limit; refused")
                    dropUpstream()
                    respond(OpenAIError.upstreamUnavailable)
                }
            default:
                break
            }
        case .end:
            switch state {
            case .streaming(let pendingHead):
                releaseUpstream()
                finishStream(pendingHead: pendingHead)
            case .collecting(let status):
                releaseUpstream()
                finishCollected(status: status)
            default:
                break
            }
        }
    }

    func upstreamReadComplete() {
        if case .streaming = state { client.flush() }
    }

    func upstreamClosed(error: (any Error)?) {
        upstream = nil
        switch state {
        case .awaitingHead where reusedConnection && !upstreamSentSomething && !retried:
            // A kept-alive connection closed under the request before any answer: the server most
            // likely closed it as idle and never saw the request. Send once more, on a new connection.
            retried = true
            sendUpstream(fresh: true)
        case .connecting, .awaitingHead, .collecting, .streaming(pendingHead: .some):
            services.metrics.increment(.upstreamErrors)
            logger.warning("upstream unavailable", metadata: ["error": "\(error.map { "\($0)" } ?? "connection closed")"])
            respond(OpenAIError.upstreamUnavailable)
        case .streaming(pendingHead: .none):
            services.metrics.increment(.upstreamCutMidStream)
            logger.warning("upstream failed mid-stream; response truncated", metadata: ["error": "\(error.map { "\($0)" } ?? "connection closed")"])
            abandon(closeClient: true)
        case .readingRequest, .awaitingRecord, .done:
            break
        }
    }

    // MARK: Timeout

    func upstreamTimedOut() {
        switch state {
        case .streaming(pendingHead: .none):
            services.metrics.increment(.upstreamCutMidStream)
            logger.warning("upstream silent mid-stream; response truncated")
            abandon(closeClient: true)
        case .awaitingHead, .collecting, .streaming(pendingHead: .some):
            dropUpstream()
            services.metrics.increment(.upstreamTimeouts)
            logger.warning("upstream timed out")
            respond(OpenAIError.upstreamTimeout)
        case .readingRequest, .connecting, .awaitingRecord, .done:
            break
        }
    }

    // MARK: Client

    func clientWritabilityChanged(_ writable: Bool) {
        guard case .streaming = state, let upstream else { return }
        if writable { upstream.resumeReads() } else { upstream.pauseReads() }
    }

    /// The client closed its connection before the response ended: stop the upstream request, so vLLM
    /// stops generating, and store nothing.
    func clientClosed() {
        switch state {
        case .done:
            return
        case .readingRequest, .awaitingRecord:
            state = .done
        default:
            services.metrics.increment(.clientDisconnects)
            logger.info("client went away mid-response; upstream request cancelled")
            state = .done
        }
        dropUpstream()
        // After a half-close the socket is still open for writing; nobody will read it.
        client.abandon(self, closeConnection: true)
    }

    // MARK: Answers

    private func streamHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "X-Accel-Buffering", value: "no")
        if closeAfterResponse { headers.add(name: "Connection", value: "close") }
        return headers
    }

    private func finishStream(pendingHead: HTTPResponseHead?) {
        var prepared: ExchangeNotary.PreparedRecord?
        if case .proxied(let proxied) = route, !proxied.isSigned {
            // An unsigned route's stream is relayed as it is.
        } else if stream.endedCleanly, let chatID = stream.chatID {
            // Signed before the held-back end is released, visible only once it is written.
            prepared = services.notary.prepare(chatID: chatID, requestHash: requestHash, responseHash: stream.responseHash, logger: logger)
        } else {
            services.metrics.increment(.signaturesUnsigned)
            if stream.failed {
                logger.warning("stream carried an error event; left unsigned")
            } else if stream.sawDone {
                logger.warning("stream has no id; left unsigned")
            } else {
                logger.warning("upstream ended before the stream's terminal event; left unsigned")
            }
        }
        if let pendingHead { client.writeHead(pendingHead) }
        for buffer in stream.takeHeld() {
            client.writeBody(buffer)
        }
        state = .done
        client.finish(self, closeConnection: closeAfterResponse, delivered: publisher(for: prepared))
    }

    /// Publishes `prepared` once the response's last byte is written, or drops it.
    private func publisher(for prepared: ExchangeNotary.PreparedRecord?) -> ((Bool) -> Void)? {
        guard let prepared else { return nil }
        let notary = services.notary
        let logger = self.logger
        return { delivered in
            if delivered {
                notary.publish(prepared, logger: logger)
            } else {
                logger.info("client did not receive the whole response; its signature is dropped")
                notary.drop(prepared)
            }
        }
    }

    private func finishCollected(status: Int) {
        let body = collected ?? ByteBuffer()
        collected = nil
        switch route {
        case .models:
            guard JSONCheck.isJSON(body) else {
                // A 200 that is not JSON is a broken upstream; an error page keeps its status in the envelope.
                respond(status == 200 ? OpenAIError.upstreamUnavailable : OpenAIError.upstreamStatus(status))
                return
            }
            respond(status: status, body: body)
        case .proxied where status != 200:
            // Non-200 answers keep their status and JSON body; nothing is signed (docs/API.md, Completions).
            guard JSONCheck.isJSON(body) else {
                respond(OpenAIError.upstreamStatus(status))
                return
            }
            respond(status: status, body: body)
        case .proxied(let proxied):
            // One pass validates the answer and finds its id.
            let scan = body.withUnsafeReadableBytes { JSONValidator.scan($0, path: TopLevelIDExtractor.idPath) }
            guard let scan, scan.topLevel == .object || (!proxied.isSigned && scan.topLevel != .scalar) else {
                if proxied.relaysOtherBodies {
                    respond(status: 200, body: body, contentType: upstreamContentType ?? "application/octet-stream")
                    return
                }
                services.metrics.increment(.upstreamErrors)
                logger.warning("upstream sent a 200 that is neither JSON nor SSE")
                respond(OpenAIError.upstreamUnavailable)
                return
            }
            guard proxied.isSigned else {
                respond(status: 200, body: body)
                return
            }
            // Signed before the response is written, visible once it is, so an eager client never gets a 404.
            var prepared: ExchangeNotary.PreparedRecord?
            if let chatID = body.withUnsafeReadableBytes({ TopLevelIDExtractor.usableString(scan.member, in: $0) }) {
                prepared = services.notary.prepare(chatID: chatID, requestHash: requestHash, responseHash: StreamDigest.hex(of: body), logger: logger)
            } else {
                services.metrics.increment(.signaturesUnsigned)
                logger.warning("upstream response has no string id; left unsigned")
            }
            respond(status: 200, body: body, delivered: publisher(for: prepared))
        case .wrongMethod, .signature, .redirect, .notServed:
            respond(OpenAIError.methodNotAllowed)
        }
    }

    private func respond(_ error: OpenAIError) {
        respond(status: Int(error.status.code), body: error.envelope(envelope))
    }

    /// vLLM's answer to one of its paths with a trailing slash: a 307 to the path without it.
    private func respondRedirect(to location: String) {
        // Relative, unlike vLLM's absolute one, which names vLLM's own address.
        respond(status: 307, body: ByteBuffer(), location: location)
    }

    /// A whole answer with its length (JSON unless `contentType` says otherwise); ends the exchange.
    private func respond(
        status: Int, body: ByteBuffer, contentType: String? = nil, location: String? = nil, delivered: ((Bool) -> Void)? = nil
    ) {
        guard !isDone else {
            delivered?(false)
            return
        }
        state = .done
        var responseHead = FastPathRouter.jsonHead(
            version: head.version, status: .init(statusCode: status), length: body.readableBytes, close: closeAfterResponse)
        if let contentType { responseHead.headers.replaceOrAdd(name: "Content-Type", value: contentType) }
        if let location { responseHead.headers.add(name: "Location", value: location) }
        client.writeHead(responseHead)
        // A HEAD answer carries the headers only.
        if head.method != .HEAD { client.writeBody(body) }
        client.finish(self, closeConnection: closeAfterResponse, delivered: delivered)
    }

    private var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Ends a response that cannot be completed: the client sees a truncated body, nothing is stored.
    private func abandon(closeClient: Bool) {
        state = .done
        dropUpstream()
        client.abandon(self, closeConnection: closeClient)
    }

    // MARK: Upstream connection

    private func releaseUpstream() {
        guard let upstream else { return }
        self.upstream = nil
        pool?.release(upstream, reusable: upstreamKeepAlive)
    }

    /// Closes the upstream connection mid-response; it is never reused.
    private func dropUpstream() {
        guard let upstream else { return }
        self.upstream = nil
        pool?.release(upstream, reusable: false)
    }
}

