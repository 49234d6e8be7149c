import NIOCore

/// Placed before the HTTP decoder, it tells the router when the first bytes of a request arrive, so
/// the header timeout runs from a request's first byte rather than from the end of the previous answer
/// (which the keep-alive timeout governs). One flag check per read; bytes pass through untouched.
final class ClientBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Set once the router is in the pipeline; weak, as the pipeline owns both.
    weak var router: FastPathRouter?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let router, router.awaitingRequestBytes {
            router.bytesArrived()
        }
        context.fireChannelRead(data)
    }
}
