import NIOCore
import NIOHTTP1

/// Sits in every client connection's pipeline, right after HTTP parsing and before the general router
/// (see ``FastPathHTTP1Channel``), and serves the completion and model routes itself, on the
/// connection's event loop, in NIO's own HTTP types: no conversion for the router behind it.
///
/// Hummingbird runs each request as a Swift task and AsyncHTTPClient runs the upstream request on
/// another loop, so one proxied request crossed threads several times; on a small machine each wake-up
/// costs tens of microseconds. Here a request, its upstream connection and every relayed chunk stay on
/// one thread. Other requests pass through untouched. Requests are answered in order: a request that
/// arrives while another's response is in flight waits here (HTTP/1.1 pipelining).
final class FastPathRouter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Owner {
        case fastPath(ProxyExchange)
        case router
    }

    private enum GeneralRouter {
        /// Not set up yet: no request for it so far.
        case absent
        /// Requested from the connection's task; parts wait in `queued` meanwhile.
        case installing
        case ready
    }

    private let services: FastPathServices
    private let gate: GeneralRouterGate
    private var general = GeneralRouter.absent
    private var context: ChannelHandlerContext?
    /// Who reads the current request's body parts.
    private var reader: Owner?
    /// Whose response is being written.
    private var responder: Owner?
    /// Parts that arrived while a response was in flight, in order.
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var readHeldBack = false
    /// A graceful shutdown arrived while a fast-path response was in flight: close when it ends.
    private var quiesceHeld = false
    /// The decoder hit bytes that are not HTTP; answered with 400 once earlier requests are.
    private var parseErrorPending = false

    init(services: FastPathServices, gate: GeneralRouterGate) {
        self.services = services
        self.gate = gate
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !queued.isEmpty || (responder != nil && part.isHead) || general == .installing {
            queued.append(part)
            return
        }
        process(part, context: context)
    }

    /// Called on the event loop once the general router's handlers are behind this one.
    func generalRouterInstalled() {
        general = .ready
        guard let context else { return }
        drainQueued(context: context)
        if quiesceHeld, responder.map({ if case .fastPath = $0 { false } else { true } }) ?? true {
            // A shutdown arrived while the router was being set up: it closes after its answer.
            quiesceHeld = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            guard let route = FastPathServices.route(method: head.method, path: head.uri) else {
                guard general == .ready else {
                    // Hold this request (and everything after it) until the router behind exists.
                    queued.prepend(part)
                    if general == .absent {
                        general = .installing
                        gate.resolve(.needed)
                    }
                    return
                }
                reader = .router
                responder = .router
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            let exchange = ProxyExchange(services: services, route: route, head: head, client: self, eventLoop: context.eventLoop)
            reader = .fastPath(exchange)
            responder = .fastPath(exchange)
            exchange.requestHead()
        case .body(let buffer):
            switch reader {
            case .fastPath(let exchange): exchange.requestBody(buffer)
            case .router, .none: context.fireChannelRead(wrapInboundOut(part))
            }
        case .end:
            let current = reader
            reader = nil
            switch current {
            case .fastPath(let exchange): exchange.requestEnd()
            case .router, .none: context.fireChannelRead(wrapInboundOut(part))
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .fastPath(let exchange) = responder {
            exchange.clientWritabilityChanged(context.channel.isWritable)
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .fastPath(let exchange) = responder {
            if event is ChannelShouldQuiesceEvent {
                // The router behind would close the connection as idle; let the response finish first.
                quiesceHeld = true
                return
            }
            if let event = event as? ChannelEvent, event == .inputClosed {
                // HTTP clients do not half-close while waiting for a response: the client is gone.
                exchange.clientClosed()
            }
        } else if general != .ready {
            // Nothing behind this handler closes the connection; do what the general router would.
            if event is ChannelShouldQuiesceEvent {
                if queued.isEmpty { context.close(promise: nil) } else { quiesceHeld = true }
                return
            }
            if let event = event as? ChannelEvent, event == .inputClosed, queued.isEmpty {
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .fastPath(let exchange) = responder {
            exchange.clientClosed()
        }
        gate.resolve(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            // Requests before the bad bytes are answered first, then a 400, then the connection closes.
            parseErrorPending = true
            answerParseErrorIfIdle(context: context)
            return
        }
        if case .fastPath(let exchange) = responder {
            // A reset mid-exchange: nothing more can be written on this connection.
            exchange.clientClosed()
            context.close(promise: nil)
            return
        }
        guard general == .ready else {
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    private func answerParseErrorIfIdle(context: ChannelHandlerContext) {
        guard parseErrorPending, responder == nil, queued.isEmpty else { return }
        parseErrorPending = false
        let body = OpenAIError.badRequest.envelope()
        let head = Self.jsonHead(version: .http1_1, status: .badRequest, length: body.readableBytes, close: true)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd, case .router = responder {
            responder = nil
            drainQueued(context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        // Stop reading while requests are queued behind an in-flight response.
        if queued.isEmpty {
            context.read()
        } else {
            readHeldBack = true
        }
    }

    // MARK: Writing for the exchange

    /// The head of a whole JSON answer: its type, its length, and `Connection: close` when the
    /// connection ends after it.
    static func jsonHead(version: HTTPVersion, status: HTTPResponseStatus, length: Int, close: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(3)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(length))
        if close { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }

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
    func finish(_ exchange: ProxyExchange, closeConnection: Bool) {
        guard let context, case .fastPath(let current) = responder, current === exchange else { return }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        responder = nil
        if case .fastPath(let reading) = reader, reading === exchange { reader = nil }
        if closeConnection || quiesceHeld {
            context.close(promise: nil)
            return
        }
        drainQueued(context: context)
    }

    /// Drops the exchange without a proper end (client gone, or upstream cut mid-stream).
    func abandon(_ exchange: ProxyExchange, closeConnection: Bool) {
        guard let context, case .fastPath(let current) = responder, current === exchange else { return }
        responder = nil
        if case .fastPath(let reading) = reader, reading === exchange { reader = nil }
        if closeConnection { context.close(promise: nil) }
    }

    private func drainQueued(context: ChannelHandlerContext) {
        var forwarded = false
        while let part = queued.first {
            if (part.isHead && responder != nil) || general == .installing { break }
            queued.removeFirst()
            process(part, context: context)
            if case .router = reader ?? responder { forwarded = true }
        }
        // The general router's channel delivers reads to its task at read-complete; these parts
        // arrive outside a read cycle, so close one for them.
        if forwarded { context.fireChannelReadComplete() }
        answerParseErrorIfIdle(context: context)
        if queued.isEmpty && readHeldBack {
            readHeldBack = false
            context.read()
        }
    }
}

extension HTTPServerRequestPart {
    fileprivate var isHead: Bool {
        if case .head = self { return true }
        return false
    }
}
