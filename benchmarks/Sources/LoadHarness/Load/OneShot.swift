import HarnessSupport
import NIOCore
import NIOHTTP1
import NIOPosix

/// One request on a fresh connection, the whole response body kept (for signature checks).
enum OneShot {
    static func fetch(group: MultiThreadedEventLoopGroup, port: Int, request: RequestSpec) async throws -> (status: UInt, body: [UInt8]) {
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        let promise = group.next().makePromise(of: (UInt, [UInt8]).self)
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Collector(request: request, promise: promise))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(to: target).get()
        defer { channel.close(promise: nil) }
        let (status, body) = try await promise.futureResult.get()
        return (status, body)
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart
        let request: RequestSpec
        let promise: EventLoopPromise<(UInt, [UInt8])>
        var status: UInt = 0
        var body: [UInt8] = []
        var completed = false

        init(request: RequestSpec, promise: EventLoopPromise<(UInt, [UInt8])>) {
            self.request = request
            self.promise = promise
        }

        /// Completes the promise once; later outcomes (the close after the end) are ignored.
        func complete(_ result: Result<(UInt, [UInt8]), any Error>) {
            guard !completed else { return }
            completed = true
            promise.completeWith(result)
        }

        func channelActive(context: ChannelHandlerContext) {
            context.write(wrapOutboundOut(.head(request.head)), promise: nil)
            if let payload = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): status = head.status.code
            case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
            case .end: complete(.success((status, body)))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            complete(.failure(HarnessError(description: "connection closed before the response ended")))
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            complete(.failure(error))
            context.close(promise: nil)
        }
    }
}
