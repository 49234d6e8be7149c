import NIOCore
import NIOHTTP1

/// Sits in every client connection's pipeline, right after HTTP parsing and before the general router
/// (see ``FastPathHTTP1Channel``), and serves every vLLM route (``RouteTable``), the models list and
/// signature lookups itself, on the connection's event loop, in NIO's own HTTP types.
///
/// A router that runs each request as a Swift task, with an HTTP client on another loop, makes one
/// proxied request cross threads several times; on a small machine each wake-up costs tens of
/// microseconds. Here a request, its upstream connection and every relayed chunk stay on
/// one thread. Other requests pass through untouched. Requests are answered in order: a request that
/// arrives while another's response is in flight waits here (HTTP/1.1 pipelining).
///
/// It also owns the connection's clock (header, body-rate and keep-alive timeouts) and the rules that
/// keep a client from making the proxy hold bytes for it: only a proxied route may carry a body, and a
/// request refused at its head is answered at once and the connection closed, its body never read.
final class FastPathRouter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Owner {
        case fastPath(ProxyExchange)
        case router
        /// A request refused at its head: its remaining parts are dropped, and the connection closes.
        case refused
    }

    private enum GeneralRouter {
        /// Not set up yet: no request for it so far.
        case absent
        /// Requested from the connection's task; parts wait in `held` meanwhile.
        case installing
        case ready
    }

    /// A graceful shutdown that arrived while it could not be acted on yet.
    private enum DeferredQuiesce {
        /// A fast-path answer is in flight, or the general router is being set up: close after it.
        case untilResponseEnds
        /// Between requests, with answers' last writes still in flight: act once they complete, so a
        /// slow reader still gets every byte of the answer it was sent.
        case untilWritesComplete
    }

    private let services: FastPathServices
    private let gate: GeneralRouterGate
    private var general = GeneralRouter.absent
    private var context: ChannelHandlerContext?
    /// Who reads the current request's body parts.
    private var reader: Owner?
    /// Whose response is being written.
    private var responder: Owner?
    /// Parts (and a parse error) that arrived while a response was in flight, in order.
    private var held = HeldRequests()
    private var deferredQuiesce: DeferredQuiesce?
    /// Fast-path answers whose last write has not completed yet.
    private var finalWritesPending = 0
    private var deliveries = DeliveryConfirmations()

    private var clock: ConnectionClock
    /// The one timer, armed at or before `clock.deadline`.
    private var timer: Scheduled<Void>?
    private var timerFiresAt: NIODeadline?

    /// How long a refused connection's input is drained before closing, so the client reads the answer
    /// instead of a reset caused by bytes it was still sending.
    static let lingerTimeout = TimeAmount.seconds(2)

    /// How long a signed answer's delivery waits for the client to reset the connection.
    static let deliveryGrace = TimeAmount.milliseconds(200)

    init(services: FastPathServices, gate: GeneralRouterGate) {
        self.services = services
        self.gate = gate
        clock = ConnectionClock(
            limits: .init(
                header: services.headerTimeout, body: services.bodyTimeout, bodyMinRate: services.bodyMinRate,
                keepAlive: services.keepAliveTimeout, linger: Self.lingerTimeout),
            now: .distantFuture)
        services.live.routers.add(1, ordering: .relaxed)
    }

    deinit {
        services.live.routers.subtract(1, ordering: .relaxed)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The loop's clock, not the wall's: timers and deadlines must agree (and tests move the clock).
        clock = ConnectionClock(limits: clock.limits, now: context.eventLoop.now)
        syncTimer()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // The context holds this handler and the exchanges hold it too: drop every reference so the
        // connection's objects are freed with it.
        cancelTimer()
        self.context = nil
        reader = nil
        responder = nil
        held.removeAll()
    }

    // MARK: Inbound

    /// Raw bytes arrived ahead of the HTTP decoder (see ``ClientBytesObserver``).
    func bytesArrived() {
        guard clock.awaitingRequestBytes, let context else { return }
        // The client sends its next request: it has read the previous answers.
        settleConfirmations(delivered: true)
        _ = clock.bytesArrived(now: context.eventLoop.now)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        clock.readComplete()
        syncTimer()
        context.fireChannelReadComplete()
    }

    /// Whether the observer needs to call ``bytesArrived()``: only between requests.
    var awaitingRequestBytes: Bool { clock.awaitingRequestBytes }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .refused = responder { return }
        if !held.isEmpty || (responder != nil && part.isHead) || general == .installing {
            held.append(.part(part))
            return
        }
        process(part, context: context)
    }

    /// Called on the event loop once the general router's handlers are behind this one.
    func generalRouterInstalled() {
        general = .ready
        guard let context else { return }
        drainHeld(context: context)
        if deferredQuiesce == .untilResponseEnds, responder.map({ if case .router = $0 { true } else { false } }) ?? true {
            // A shutdown arrived while the router was being set up: it closes after its answer.
            deferredQuiesce = nil
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            processHead(head, context: context)
        case .body(let buffer):
            switch reader {
            case .fastPath(let exchange):
                clock.bodyReceived(buffer.readableBytes)
                if let refusal = exchange.requestBody(buffer) {
                    refuse(refusal, exchange: exchange, context: context)
                }
            case .router: context.fireChannelRead(wrapInboundOut(part))
            case .refused, .none: break
            }
        case .end:
            let current = reader
            reader = nil
            switch current {
            case .fastPath(let exchange):
                clock.busy()
                exchange.requestEnd()
            case .router: context.fireChannelRead(wrapInboundOut(part))
            case .refused, .none: break
            }
        }
    }

    private func processHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let declaresBody = Self.declaresBody(head)
        guard let route = FastPathServices.route(method: head.method, path: head.uri) else {
            if declaresBody {
                // The general router's routes take no body; nothing else is served.
                let error = head.method == .GET || head.method == .HEAD ? OpenAIError.bodyNotAllowed : .routeNotFound
                refuse(error, head: head, context: context)
                return
            }
            guard general == .ready else {
                // Hold this request (and everything after it) until the router behind exists.
                held.prepend(.part(.head(head)))
                if general == .absent {
                    general = .installing
                    gate.resolve(.needed)
                }
                return
            }
            clock.busy()
            reader = .router
            responder = .router
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        let exchange = ProxyExchange(services: services, route: route, head: head, client: self, eventLoop: context.eventLoop)
        reader = .fastPath(exchange)
        responder = .fastPath(exchange)
        if let refusal = exchange.requestHead(declaresBody: declaresBody) {
            refuse(refusal, exchange: exchange, context: context)
            return
        }
        if declaresBody {
            clock.bodyStarted(now: context.eventLoop.now)
            syncTimer()
            if Self.expectsContinue(head) {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
        } else {
            clock.busy()
        }
    }

    /// Whether a request head announces body bytes: a non-zero length, or any transfer coding.
    static func declaresBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        // The decoder has already refused a length that is not a number, or two that disagree.
        guard let length = head.headers.first(name: "content-length") else { return false }
        return Int(length) != 0
    }

    private static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.headers["expect"].contains { $0.lowercased() == "100-continue" }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .fastPath(let exchange) = responder {
            exchange.clientWritabilityChanged(context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, responder == nil, finalWritesPending > 0 {
            deferredQuiesce = .untilWritesComplete
            return
        }
        // A FIN says little: bytes that reach a socket already closed are answered with a reset,
        // which may still be on its way. Keep the connection until the delivery is decided.
        if let event = event as? ChannelEvent, event == .inputClosed, deliveries.holdInputClose() { return }
        switch responder {
        case .refused:
            if let event = event as? ChannelEvent, event == .inputClosed {
                // The client has read the answer and finished sending: nothing is left to drain.
                context.close(promise: nil)
            }
            return
        case .fastPath(let exchange):
            if event is ChannelShouldQuiesceEvent {
                // The router behind would close the connection as idle; let the response finish first.
                deferredQuiesce = .untilResponseEnds
                return
            }
            if let event = event as? ChannelEvent, event == .inputClosed {
                // HTTP clients do not half-close while waiting for a response: the client is gone.
                exchange.clientClosed()
            }
        case .router, .none:
            if general != .ready {
                // Nothing behind this handler closes the connection; do what the general router would.
                if event is ChannelShouldQuiesceEvent {
                    if held.isEmpty { closeDeliberately(context) } else { deferredQuiesce = .untilResponseEnds }
                    return
                }
                if let event = event as? ChannelEvent, event == .inputClosed, held.isEmpty {
                    closeDeliberately(context)
                    return
                }
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // The proxy closes a connection only once its deliveries are decided, so one that closes first
        // was closed by the client's kernel: NIO reports a reset as a plain close.
        settleConfirmations(delivered: false)
        cancelTimer()
        if case .fastPath(let exchange) = responder {
            exchange.clientClosed()
        }
        gate.resolve(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Bytes after a parse error: the decoder refuses them; the parse error is being answered.
        if error is ByteToMessageDecoderError { return }
        if error is HTTPParserError {
            switch reader {
            case .fastPath(let exchange):
                // The bytes inside this request's body are not HTTP: it can never complete.
                refuse(OpenAIError.badRequest, exchange: exchange, context: context)
            case .refused:
                break
            case .router, .none:
                // Requests before the bad bytes are answered first, then a 400, then the connection closes.
                held.append(.parseError)
                drainHeld(context: context)
            }
            return
        }
        // A reset: the client closed with bytes it had not read, perhaps the end of an answer.
        settleConfirmations(delivered: false)
        if case .fastPath(let exchange) = responder {
            // A reset mid-exchange: nothing more can be written on this connection.
            exchange.clientClosed()
            context.close(promise: nil)
            return
        }
        guard general == .ready, case .router = responder else {
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    // MARK: Refusing

    /// Answers `error` for the exchange's request at once and closes the connection after it: the
    /// request's body is not (or no longer) read, so the connection cannot carry another request.
    private func refuse(_ error: OpenAIError, exchange: ProxyExchange, context: ChannelHandlerContext) {
        exchange.requestAborted()
        refuse(error, version: exchange.version, method: exchange.method, envelope: exchange.envelope, context: context)
    }

    private func refuse(_ error: OpenAIError, head: HTTPRequestHead, context: ChannelHandlerContext) {
        refuse(error, version: head.version, method: head.method, context: context)
    }

    private func refuse(
        _ error: OpenAIError, version: HTTPVersion, method: HTTPMethod, envelope: ProxyRoute.Envelope = .openAI, context: ChannelHandlerContext
    ) {
        // Earlier answers were written in full, and the client is still sending (no reset): closing
        // this connection is the proxy's choice, not a sign they went unread.
        settleConfirmations(delivered: true)
        reader = .refused
        responder = .refused
        held.removeAll()
        // Bounded even if the client never reads the answer.
        clock.closing(now: context.eventLoop.now)
        syncTimer()
        if error.status.code >= 400 && error.status.code < 500 && error.status != .notFound {
            services.metrics.increment(.rejectedRequests)
        }
        let body = error.envelope(envelope)
        var head = ExchangeStateMachine.jsonHead(version: version, status: .init(statusCode: Int(error.status.code)), length: body.readableBytes, close: true)
        if let retryAfter = error.retryAfter { head.headers.add(name: "Retry-After", value: String(retryAfter)) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] result in
            guard case .success = result else {
                context.close(promise: nil)
                return
            }
            // Half-close: the client sees the end of the answer, and what it still sends is read and
            // dropped until it closes or the linger time runs out.
            context.close(mode: .output).assumeIsolated().whenFailure { _ in context.close(promise: nil) }
            clock.lingering(now: context.eventLoop.now)
            syncTimer()
            if held.takeHeldBackRead(force: true) { context.read() }
        }
    }

    // MARK: Timeouts

    /// Arms the timer for `clock.deadline` unless it already fires at or before it.
    private func syncTimer() {
        guard let deadline = clock.deadline, let context else { return }
        if let firesAt = timerFiresAt, firesAt <= deadline { return }
        timer?.cancel()
        timerFiresAt = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerFiresAt = nil
            timerFired()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerFiresAt = nil
    }

    private func timerFired() {
        guard let context else { return }
        guard let expiry = clock.timerFired(now: context.eventLoop.now) else {
            // The deadline moved later since the timer was set (or there is none now).
            syncTimer()
            return
        }
        switch expiry {
        case .idle, .closing:
            closeDeliberately(context)
        case .head:
            services.metrics.increment(.clientTimeouts)
            refuse(OpenAIError.requestTimeout, version: .http1_1, method: .GET, context: context)
        case .body:
            services.metrics.increment(.clientTimeouts)
            if case .fastPath(let exchange) = reader {
                refuse(OpenAIError.requestTimeout, exchange: exchange, context: context)
            } else {
                closeDeliberately(context)
            }
        }
    }

    /// The connection is between requests again: the keep-alive timeout applies.
    private func becameIdle() {
        guard let context else { return }
        clock.becameIdle(now: context.eventLoop.now)
        syncTimer()
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd, case .router = responder {
            responder = nil
            becameIdle()
            drainHeld(context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        // Stop reading while requests are held behind an in-flight response.
        if held.readRequested() { context.read() }
    }

    // MARK: Writing for the exchange

    /// The client's IP address, for limits on routes without a token.
    var peerAddress: String? { context?.channel.remoteAddress?.ipAddress }

    func writeHead(_ response: HTTPResponseHead) {
        context?.write(wrapOutboundOut(.head(response)), promise: nil)
    }

    func writeBody(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    func flush() {
        context?.flush()
    }

    /// Ends the exchange's response; the next queued request, if any, is served next.
    ///
    /// A connection that ends with this response is closed only once its last bytes are written:
    /// closing earlier would throw away what is still queued for a slow reader.
    /// - Parameter delivered: called with whether every byte of the response was written to the socket.
    func finish(_ exchange: ProxyExchange, closeConnection: Bool, delivered: ((Bool) -> Void)? = nil) {
        guard let context, case .fastPath(let current) = responder, current === exchange else {
            delivered?(false)
            return
        }
        let close = closeConnection || deferredQuiesce == .untilResponseEnds
        finalWritesPending += 1
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { [self] result in
            finalWritesPending -= 1
            switch (result, delivered) {
            case (.failure, _):
                delivered?(false)
                if close { context.close(promise: nil) }
            case (.success, .some(let delivered)) where close:
                // Kept open (not even half-closed: NIO would close the connection at the client's FIN,
                // before a reset that may follow it is seen) until the delivery is decided.
                confirmDelivery({ ok in
                    delivered(ok)
                    context.close(promise: nil)
                }, context: context)
            case (.success, .some(let delivered)):
                confirmDelivery(delivered, context: context)
            case (.success, .none):
                if close { context.close(promise: nil) }
            }
            if close {
                return
            } else if finalWritesPending == 0, deferredQuiesce == .untilWritesComplete {
                deferredQuiesce = nil
                userInboundEventTriggered(context: context, event: ChannelShouldQuiesceEvent())
            }
        }
        responder = nil
        if case .fastPath(let reading) = reader, reading === exchange { reader = nil }
        if close {
            // A client that stops reading its last bytes for this long loses them (and so its signature).
            clock.closing(now: context.eventLoop.now)
            syncTimer()
            return
        }
        becameIdle()
        drainHeld(context: context)
    }

    /// Decides whether a signed answer whose every byte was written was delivered.
    ///
    /// A completed write only means the kernel took the bytes. A client that closes its socket with
    /// bytes still unread makes its kernel reset the connection (a clean close sends a FIN), so a
    /// reset soon after the last write means the answer's end may never have been read. The decision
    /// waits for the first sign: the client's next request (delivered), a reset (not delivered), or
    /// `deliveryGrace` without a reset (delivered). A FIN decides nothing: a client that closed before
    /// the last bytes arrived answers them with a reset, which may follow its FIN.
    private func confirmDelivery(_ decide: @escaping (Bool) -> Void, context: ChannelHandlerContext) {
        let id = deliveries.add(decide)
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.deliveryGrace) { [self] in
            guard deliveries.isWaiting(id) else { return }
            // A reset that came after the client's FIN is never read (input is closed by then), but it
            // leaves the socket in the CLOSE state, which TCP_INFO shows.
            Self.connectionWasReset(context.channel).assumeIsolated().whenComplete { [self] result in
                guard let decide = deliveries.take(id) else { return }
                let reset = (try? result.get()) ?? false
                decide(!reset)
                releaseHeldInputClose()
            }
        }
    }

    /// Whether the kernel saw the peer reset the connection; false where TCP_INFO cannot tell
    /// (an in-memory channel, another platform).
    private static func connectionWasReset(_ channel: any Channel) -> EventLoopFuture<Bool> {
        #if os(Linux)
        if let provider = channel as? any SocketOptionProvider, channel.isActive {
            // TCP_CLOSE (7): what a reset leaves; an open connection is ESTABLISHED or CLOSE_WAIT.
            return provider.getTCPInfo().map { $0.tcpi_state == 7 }.recover { _ in true }
        }
        #endif
        return channel.eventLoop.makeSucceededFuture(false)
    }

    private func settleConfirmations(delivered: Bool) {
        guard !deliveries.isEmpty else { return }
        for decide in deliveries.takeAll() { decide(delivered) }
        releaseHeldInputClose()
    }

    private func releaseHeldInputClose() {
        guard let context, deliveries.releaseInputClose() else { return }
        userInboundEventTriggered(context: context, event: ChannelEvent.inputClosed)
    }

    /// Drops the exchange without a proper end (client gone, or upstream cut mid-stream).
    func abandon(_ exchange: ProxyExchange, closeConnection: Bool) {
        guard let context, case .fastPath(let current) = responder, current === exchange else { return }
        responder = nil
        if case .fastPath(let reading) = reader, reading === exchange { reader = nil }
        if closeConnection {
            clock.closed()
            closeDeliberately(context)
        }
    }

    /// Closes the connection by the proxy's own choice (an upstream cut, a timeout, a shutdown): answers
    /// already written in full and not reset are delivered. Only a close the proxy did not choose counts
    /// as a reset (``channelInactive(context:)``); a reset reported first has settled them already.
    private func closeDeliberately(_ context: ChannelHandlerContext) {
        settleConfirmations(delivered: true)
        context.close(promise: nil)
    }

    /// Serves what was held, in order, as far as the connection is free for it.
    private func drainHeld(context: ChannelHandlerContext) {
        var forwarded = false
        while let item = held.first {
            if (item.startsRequest && responder != nil) || general == .installing { break }
            switch held.removeFirst() {
            case .part(let part):
                process(part, context: context)
            case .parseError:
                refuse(OpenAIError.badRequest, version: .http1_1, method: .GET, context: context)
            }
            if case .router = reader ?? responder { forwarded = true }
            if case .refused = responder { break }
        }
        // The general router's channel delivers reads to its task at read-complete; these parts
        // arrive outside a read cycle, so close one for them.
        if forwarded { context.fireChannelReadComplete() }
        if held.takeHeldBackRead() { context.read() }
    }
}

extension HTTPServerRequestPart {
    fileprivate var isHead: Bool {
        if case .head = self { return true }
        return false
    }
}
