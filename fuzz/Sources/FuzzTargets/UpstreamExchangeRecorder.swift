import NIOCore
import NIOHTTP1

/// Sits between one upstream connection's HTTP client codec and `UpstreamConnection` and records the
/// requests the proxy wrote and the answer parts the upstream sent, in HTTP terms.
///
/// It checks one rule as it goes: the proxy writes a request only on a connection whose previous
/// request has been answered completely (one request outstanding at most, so an answer can belong to
/// one exchange only).
final class UpstreamExchangeRecorder: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    struct Request {
        var head: HTTPRequestHead
        var body: [UInt8] = []
        /// Position among every upstream request of the session, in the order they were written.
        var sequence: Int
    }

    /// Numbers requests across all of a session's upstream connections.
    final class RequestCounter {
        private(set) var next = 0

        func take() -> Int {
            defer { next += 1 }
            return next
        }
    }

    private let counter: RequestCounter

    init(counter: RequestCounter) {
        self.counter = counter
    }

    struct Response {
        var head: HTTPResponseHead
        var body: [UInt8] = []
        var ended = false
        /// It began while a request of the proxy's was waiting for it.
        var solicited: Bool
    }

    private(set) var requests: [Request] = []
    private(set) var responses: [Response] = []
    /// The connection closed while a request had no answer head yet (the case the proxy retries once).
    private(set) var closedBeforeAnswer = false

    /// Requests written and not answered yet.
    private var outstanding: Int { requests.count - responses.filter(\.solicited).count }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            let previousAnswered = outstanding == 0 && responses.allSatisfy(\.ended)
            Invariant.require(previousAnswered, "a second request was written upstream before the first was answered")
            requests.append(Request(head: head, sequence: counter.take()))
        case .body(let body):
            if case .byteBuffer(let buffer) = body, !requests.isEmpty {
                requests[requests.count - 1].body += Array(buffer.readableBytesView)
            }
        case .end:
            break
        }
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            responses.append(Response(head: head, solicited: outstanding > 0))
        case .body(let buffer):
            if !responses.isEmpty { responses[responses.count - 1].body += Array(buffer.readableBytesView) }
        case .end:
            if !responses.isEmpty { responses[responses.count - 1].ended = true }
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if outstanding > 0 { closedBeforeAnswer = true }
        context.fireChannelInactive()
    }
}
