import NIOCore

/// First in the client connection's pipeline, next to the channel: gives the `EmbeddedChannel` a
/// socket's output half-close. An `EmbeddedChannel` closes completely on `close(mode: .output)`; a
/// socket only stops sending, and still reads what the client sends, a reset included, which is what
/// decides whether an answer that ends a connection was delivered. Writes after the half-close fail,
/// as they do on a socket.
final class HalfCloseEmulator: ChannelOutboundHandler {
    typealias OutboundIn = Any

    private(set) var outputClosed = false

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output else {
            context.close(mode: mode, promise: promise)
            return
        }
        guard !outputClosed else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        outputClosed = true
        context.flush()
        promise?.succeed(())
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !outputClosed else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        context.write(data, promise: promise)
    }
}
