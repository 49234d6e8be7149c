import E2EE
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import SigningCore

/// The glue between one fast-path exchange's ``ExchangeStateMachine`` and the world: it feeds the
/// machine the events of the client's router, the upstream connection and the timers, and performs
/// the actions it returns (pool, upstream connection, notary, metrics, logs, writes). Every decision
/// is the machine's; this class keeps only the I/O resources the machine cannot hold.
final class ProxyExchange: UpstreamConnectionDelegate {
    private let services: FastPathServices
    private let head: HTTPRequestHead
    private let client: FastPathRouter
    private let eventLoop: any EventLoop
    private var logger: Logger { services.logger }

    private var machine: ExchangeStateMachine
    private var upstream: UpstreamConnection?
    private var pool: UpstreamPool?
    /// This request's place under its token's concurrency limit, given back when the answer ends.
    private var lease: RateLimiter.Lease?
    /// `GET /v1/models`, answered with the union of the pools' lists when they serve different models.
    private let isModelsList: Bool

    init(services: FastPathServices, route: FastPathServices.Route, head: HTTPRequestHead, client: FastPathRouter, eventLoop: any EventLoop) {
        self.services = services
        self.head = head
        self.client = client
        self.eventLoop = eventLoop
        var authentication: OpenAIError?
        var token: Int?
        if case .proxied = route {
            services.metrics.increment(.completionRequests)
            do {
                token = try services.authenticator.authenticate(
                    authorization: head.headers.first(name: "authorization"), apiKey: head.headers.first(name: "x-api-key"))
            } catch {
                authentication = error
            }
        }
        if let limiter = services.rateLimiter, let limited = Self.rateLimitedClient(route, token: token, services: services, head: head, router: client) {
            switch limiter.admit(limited, now: eventLoop.now) {
            case .admitted(let lease):
                self.lease = lease
            case .limited(let retryAfter):
                services.metrics.increment(.rateLimited)
                authentication = .rateLimited(retryAfter: retryAfter)
            }
        }
        isModelsList = route == .models
        var e2ee: Result<E2EEExchange, OpenAIError>?
        if case .proxied(let proxied) = route, authentication == nil {
            e2ee = Self.e2eeHeaders(head.headers, endpoint: proxied.e2eeEndpoint, keyring: services.e2ee)
        }
        machine = ExchangeStateMachine(
            route: route, head: head, settings: services.exchangeSettings, authentication: authentication, e2ee: e2ee)
        services.live.exchanges.add(1, ordering: .relaxed)
    }

    deinit {
        services.live.exchanges.subtract(1, ordering: .relaxed)
    }

    /// An encrypted request's headers checked against the keys (nil for plaintext), or its refusal.
    private static func e2eeHeaders(
        _ headers: HTTPHeaders, endpoint: E2EEEndpoint, keyring: E2EEKeyring?
    ) -> Result<E2EEExchange, OpenAIError>? {
        guard ExchangeStateMachine.carriesE2EE(headers) else { return nil }
        guard let keyring else { return .failure(.e2eeUnsupported) }
        do {
            let fields = E2EEHeaders(headers.map { ($0.name, $0.value) })
            guard let exchange = try E2EEExchange(
                headers: fields, endpoint: endpoint, keys: keyring.server, keyset: keyring.aci, now: Int64(time(nil)),
                window: keyring.window)
            else { return nil }
            return .success(exchange)
        } catch {
            return .failure(OpenAIError(e2ee: error))
        }
    }

    /// Who a request counts against under the rate limits (docs/API.md, Rate limits); nil: nobody.
    /// - Parameter token: a proxied route's authenticated token.
    private static func rateLimitedClient(
        _ route: FastPathServices.Route, token: Int?, services: FastPathServices, head: HTTPRequestHead, router: FastPathRouter
    ) -> RateLimiter.Client? {
        switch route {
        case .proxied:
            return token.map { .token($0) }
        case .signature:
            // Unauthenticated lookups are answered 401 by the lookup itself, unlimited: they cost nothing.
            return (try? services.authenticator.authenticate(authorization: head.headers.first(name: "authorization"))).map { .token($0) }
        case .models:
            // No token here: limited by the client's address.
            return router.peerAddress.map { .address($0) }
        case .wrongMethod, .redirect, .notServed:
            return nil
        }
    }

    /// How long a signature lookup waits for a record that is being published.
    static let publicationWait = ExchangeStateMachine.publicationWait

    var version: HTTPVersion { head.version }
    var method: HTTPMethod { head.method }
    /// The error shape this request's client parses.
    var envelope: ProxyRoute.Envelope { machine.envelope }

    // MARK: Events from the client's router

    /// - Returns: an error to answer at once, without reading the body (the connection then closes);
    ///   nil to read the request on.
    func requestHead(declaresBody: Bool) -> OpenAIError? {
        refusal(machine.requestHead(declaresBody: declaresBody))
    }

    /// - Returns: an error to answer at once (the body outgrew the limit), or nil.
    func requestBody(_ buffer: ByteBuffer) -> OpenAIError? {
        refusal(machine.requestBody(buffer))
    }

    private func refusal(_ action: ExchangeStateMachine.Action) -> OpenAIError? {
        if case .refuse(let error) = action {
            lease = nil
            return error
        }
        perform(action)
        return nil
    }

    func requestAborted() {
        machine.requestAborted()
        lease = nil
    }

    func requestEnd() {
        perform(machine.requestEnd(now: eventLoop.now))
    }

    func clientWritabilityChanged(_ writable: Bool) {
        perform(machine.clientWritabilityChanged(writable))
    }

    func clientClosed() {
        perform(machine.clientClosed())
    }

    // MARK: Events from the upstream connection

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let response): perform(machine.upstreamHead(response))
        case .body(let buffer): perform(machine.upstreamBody(buffer))
        case .end: perform(machine.upstreamEnd())
        }
    }

    func upstreamReadComplete() {
        perform(machine.upstreamReadComplete())
    }

    func upstreamClosed(error: (any Error)?) {
        upstream = nil
        perform(machine.upstreamClosed(error.map { "\($0)" }))
    }

    func upstreamTimedOut() {
        perform(machine.upstreamTimedOut())
    }

    // MARK: Actions

    private func perform(_ action: ExchangeStateMachine.Action) {
        switch action {
        case .respond, .finishStream, .abandon:
            // The answer is ending: its place under the token's concurrency limit is free again.
            lease = nil
        default:
            break
        }
        switch action {
        case .none:
            break
        case .note(let note):
            record(note)
        case .refuse:
            // Only the request's head and body events refuse; `refusal(_:)` hands those to the router.
            preconditionFailure("a refusal outside the request")
        case .connectUpstream(let fresh, let model):
            connect(fresh: fresh, model: model)
        case .releaseUnusedConnection:
            break  // handled where the connection arrives
        case .sendUpstream(let upstreamHead, let body):
            upstream?.send(upstreamHead, body: body, idleLimit: services.upstreamTimeout)
        case .claimReplay(let exchange):
            claimReplay(exchange)
        case .lookUpSignature(let chatID, let algorithm, let mayWait):
            lookUp(chatID: chatID, algorithm: algorithm, mayWait: mayWait)
        case .retryLookup(let delay):
            eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
                perform(machine.lookupTimerFired(now: eventLoop.now))
            }
        case .forward(let responseHead, let body):
            if let responseHead { client.writeHead(responseHead) }
            client.writeBody(body)
        case .flush:
            client.flush()
        case .pauseUpstreamReads:
            upstream?.pauseReads()
        case .resumeUpstreamReads:
            upstream?.resumeReads()
        case .respond(var response, let disposal, let note):
            dispose(disposal)
            if let note { record(note) }
            let (delivered, receipt, released) = publisher(for: response.receipt)
            receipt?.add(to: &response.head.headers)
            let answer = response
            func write() {
                client.writeHead(answer.head)
                if let body = answer.body { client.writeBody(body) }
                client.finish(self, closeConnection: answer.close, delivered: delivered)
            }
            // With a shared store the answer waits for its record's write, a bounded wait (docs/API.md, "Shared
            // receipt store"); the router holds later requests meanwhile.
            if let released { released.assumeIsolated().whenSuccess { write() } } else { write() }
        case .finishStream(let responseHead, let held, let receipt, let disposal, let close):
            dispose(disposal)
            let (delivered, inline, released) = publisher(for: receipt)
            func write() {
                if let responseHead { client.writeHead(responseHead) }
                for buffer in held { client.writeBody(buffer) }
                // After the signed bytes: the receipt covers everything before it.
                if let inline { client.writeBody(inline.streamComment) }
                client.finish(self, closeConnection: close, delivered: delivered)
            }
            // The terminal event waits for the record's write, as a whole answer does.
            if let released { released.assumeIsolated().whenSuccess { write() } } else { write() }
        case .abandon(let disposal, let note):
            dispose(disposal)
            if let note { record(note) }
            // After a half-close the socket is still open for writing; nobody will read it.
            client.abandon(self, closeConnection: true)
        }
    }

    /// - Parameter model: picks the backends' pool (docs/API.md, "Several backends").
    private func connect(fresh: Bool, model: String?) {
        let pools = services.pools
        if isModelsList, pools.routing.unitesModels {
            // Pools that serve different models: the list is their union, fed to the machine as one answer.
            ModelsUnion.fetch(
                pools: pools, on: eventLoop, idleLimit: services.upstreamTimeout, limit: services.configuration.maxUpstreamResponseSize
            ).assumeIsolated().whenComplete { [self] result in
                switch result {
                case .success(let body):
                    guard case .sendUpstream = machine.upstreamConnected(reused: false) else { return }
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    perform(machine.upstreamHead(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers)))
                    perform(machine.upstreamBody(body))
                    perform(machine.upstreamEnd())
                case .failure(let error):
                    perform(machine.upstreamConnectFailed("\(error)"))
                }
            }
            return
        }
        let pool = pools.pool(for: eventLoop)
        self.pool = pool
        pool.acquire(fresh: fresh, model: model) { [self] result in
            switch result {
            case .success(let (connection, reused)):
                let action = machine.upstreamConnected(reused: reused)
                if case .releaseUnusedConnection = action {
                    pool.release(connection, reusable: true)
                    return
                }
                upstream = connection
                connection.delegate = self
                perform(action)
            case .failure(let error):
                perform(machine.upstreamConnectFailed("\(error)"))
            }
        }
    }

    /// Claims an encrypted request's nonce (the store may be remote) and reports back on the loop.
    private func claimReplay(_ exchange: E2EEExchange) {
        let store = services.replayStore
        let now = Int64(time(nil))
        eventLoop.makeFutureWithTask { () -> OpenAIError? in
            do throws(E2EEError) {
                try await exchange.claimReplay(store: store, now: now)
                return nil
            } catch {
                return OpenAIError(e2ee: error)
            }
        }.assumeIsolated().whenSuccess { [self] refusal in
            perform(machine.replayClaimed(refusal))
        }
    }

    private func lookUp(chatID: String, algorithm: String?, mayWait: Bool) {
        let authorization = head.headers.first(name: "authorization")
        // Only an authenticated caller may wait: nobody else learns that a record is on its way.
        if mayWait, services.notary.lookup(chatID) == nil, services.notary.isPending(chatID),
            (try? services.authenticator.authenticate(authorization: authorization)) != nil
        {
            perform(machine.signaturePending())
            return
        }
        // Memory first, then the shared store, if any (docs/API.md, "Shared receipt store").
        switch services.signatures.answer(chatID: chatID, algorithm: algorithm, authorization: authorization, on: eventLoop, logger: logger) {
        case .now(let answer):
            perform(machine.signatureAnswered(answer))
        case .later(let answer):
            answer.assumeIsolated().whenSuccess { [self] answer in perform(machine.signatureAnswered(answer)) }
        }
    }

    /// Prepares the record of a signed answer before its last bytes are written; the returned
    /// closure publishes it once they are, or drops it. With the receipt the answer carries, if any,
    /// and what its last bytes wait for (the shared store's write), if anything.
    private func publisher(for receipt: ExchangeStateMachine.Receipt) -> (((Bool) -> Void)?, InlineProof?, EventLoopFuture<Void>?) {
        switch receipt {
        case .none:
            return (nil, nil, nil)
        case .unsigned(let reason):
            services.metrics.increment(.signaturesUnsigned)
            switch reason {
            case .errorEvent: logger.warning("answer carried an error event; left unsigned")
            case .noID: logger.warning("answer has no string id; left unsigned")
            case .cut: logger.warning("upstream ended before the stream's terminal event; left unsigned")
            }
            return (nil, nil, nil)
        case .sign(let chatID, let requestHash, let responseHash, let inline):
            let notary = services.notary
            // Only signed records are shared: with a shared store they are signed now, even in lazy mode.
            guard
                let prepared = notary.prepare(
                    chatID: chatID, requestHash: requestHash, responseHash: responseHash, signNow: inline || notary.signsForSharing,
                    logger: logger)
            else { return (nil, nil, nil) }
            let (publish, released) = notary.release(prepared, on: eventLoop, logger: logger)
            return (publish, inline ? notary.receipt(of: prepared) : nil, released)
        }
    }

    private func record(_ note: ExchangeStateMachine.Note) {
        let metrics = services.metrics
        switch note {
        case .rejected:
            metrics.increment(.rejectedRequests)
        case .upstreamUnavailable(let description):
            metrics.increment(.upstreamErrors)
            logger.warning("upstream unavailable", metadata: ["error": "\(description)"])
        case .upstreamBadStatus(let status):
            metrics.increment(.upstreamErrors)
            logger.warning("upstream sent a status that cannot be passed on", metadata: ["status": "\(status)"])
        case .upstreamOverLimit:
            metrics.increment(.upstreamErrors)
            logger.warning("upstream body over the limit; refused")
        case .upstreamNotJSON:
            metrics.increment(.upstreamErrors)
            logger.warning("upstream sent a 200 that is neither JSON nor SSE")
        case .upstreamStatus:
            metrics.increment(.upstreamStatusErrors)
        case .streaming:
            metrics.increment(.streamingResponses)
        case .json:
            metrics.increment(.jsonResponses)
        case .upstreamTimeout:
            metrics.increment(.upstreamTimeouts)
            logger.warning("upstream timed out")
        case .cutMidStream(let description):
            metrics.increment(.upstreamCutMidStream)
            logger.warning("upstream failed mid-stream; response truncated", metadata: ["error": "\(description)"])
        case .silentMidStream:
            metrics.increment(.upstreamCutMidStream)
            logger.warning("upstream silent mid-stream; response truncated")
        case .clientLeft:
            metrics.increment(.clientDisconnects)
            logger.info("client went away mid-response; upstream request cancelled")
        case .unsealable:
            metrics.increment(.upstreamErrors)
            logger.warning("an answer to an encrypted request could not be encrypted; withheld")
        }
    }

    private func dispose(_ disposal: ExchangeStateMachine.UpstreamDisposal) {
        guard let upstream else { return }
        switch disposal {
        case .keep:
            return
        case .release(let reusable):
            pool?.release(upstream, reusable: reusable)
        case .drop:
            // Closed mid-answer; it is never reused.
            pool?.release(upstream, reusable: false)
        }
        self.upstream = nil
    }
}
