import NIOCore
import NIOHTTP1

@testable import SigningProxyServer

/// Sits between the client connection's HTTP codec and `FastPathRouter` and records, in HTTP terms,
/// every request the decoder delivered and every response part the proxy wrote, with whether each
/// write reached the socket (an `EmbeddedChannel`'s outbound buffer).
final class ClientExchangeRecorder: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    struct Request {
        var head: HTTPRequestHead
        var body: [UInt8] = []
        var ended = false
    }

    struct Response {
        var head: HTTPResponseHead
        var body: [UInt8] = []
        var ended = false
        /// Writes handed down and not yet completed.
        var pendingWrites = 0
        /// A write of this response failed.
        var writeFailed = false

        /// The script step during which the write of the end completed.
        var endWrittenAt: Int?

        /// Every byte written, end included: what the router's `delivered` callback is told.
        var delivered: Bool { ended && pendingWrites == 0 && !writeFailed }
    }

    /// The script step running now (set by the session before each step).
    var step = 0
    private(set) var requests: [Request] = []
    private(set) var responses: [Response] = []
    /// `100 Continue` heads written (the only interim response the proxy sends).
    private(set) var interimResponses = 0
    /// Write promises not completed yet, by their future.
    private var unfinished: [ObjectIdentifier: EventLoopPromise<Void>] = [:]
    /// A head for a route the fast path does not serve arrived: the general router is needed.
    private(set) var sawGeneralRoute = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requests.append(Request(head: head))
            if FastPathServices.route(method: head.method, path: head.uri) == nil { sawGeneralRoute = true }
        case .body(let buffer):
            if !requests.isEmpty { requests[requests.count - 1].body += Array(buffer.readableBytesView) }
        case .end:
            if !requests.isEmpty { requests[requests.count - 1].ended = true }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let index: Int
        var isEnd = false
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status == .continue:
            interimResponses += 1
            context.write(data, promise: promise)
            return
        case .head(let head):
            // Anything else is a final answer: a client reads a 1xx as interim and waits for more, and
            // a status outside 100...599 is not HTTP at all.
            Invariant.require((200...599).contains(head.status.code), "the proxy wrote a final response with status \(head.status.code)")
            responses.append(Response(head: head))
            index = responses.count - 1
        case .body(let body):
            index = responses.count - 1
            Invariant.require(index >= 0, "a response body part was written before any response head")
            if case .byteBuffer(let buffer) = body { responses[index].body += Array(buffer.readableBytesView) }
        case .end:
            index = responses.count - 1
            Invariant.require(index >= 0, "a response end was written before any response head")
            Invariant.require(!responses[index].ended, "a response was ended twice")
            responses[index].ended = true
            isEnd = true
        }
        responses[index].pendingWrites += 1
        let written = context.eventLoop.makePromise(of: Void.self)
        let key = ObjectIdentifier(written.futureResult)
        unfinished[key] = written
        written.futureResult.assumeIsolated().whenComplete { [self] result in
            unfinished[key] = nil
            responses[index].pendingWrites -= 1
            switch result {
            case .failure: responses[index].writeFailed = true
            case .success where isEnd: responses[index].endWrittenAt = step
            case .success: break
            }
        }
        written.futureResult.cascade(to: promise)
        context.write(data, promise: written)
    }

    /// A socket channel fails the writes still waiting for a flush when it closes; an `EmbeddedChannel`
    /// leaves them pending forever. Failing them here gives the router what production would.
    func channelInactive(context: ChannelHandlerContext) {
        let waiting = unfinished.values
        unfinished = [:]
        for promise in waiting { promise.fail(ChannelError.ioOnClosedChannel) }
        context.fireChannelInactive()
    }
}
