import NIOCore

/// A pass-through handler in every client connection's pipeline that reports when the client leaves.
///
/// Hummingbird allows remote half-closure, so a client that closes its socket produces only an
/// `inputClosed` event, which nobody reads while a response streams: the proxy would notice only at its
/// next write, which during a slow generation may be long after. HTTP clients do not half-close while
/// waiting for a response, so on a connection with a response in flight the event means the client is gone.
final class ClientConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never

    let state = ClientConnectionState()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            state.markClosed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state.markClosed()
        context.fireChannelInactive()
    }
}
