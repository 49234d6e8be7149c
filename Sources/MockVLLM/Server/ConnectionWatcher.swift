import NIOCore

/// A pass-through channel handler that notes when the client stops sending (EOF) or the connection closes.
///
/// Hummingbird enables remote half-closure, so a client that closes its socket only produces an
/// `inputClosed` event, which nobody reads while a response is being written; the server would notice
/// only when a later write fails. HTTP clients never half-close while waiting for a response, so during a
/// paced stream the event means the client is gone. The handler forwards everything unchanged.
final class ConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler {
    // Reads pass through the default implementation, which never unwraps them.
    typealias InboundIn = Never

    let liveness = ConnectionLiveness()

    init() {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            self.liveness.markClosed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.liveness.markClosed()
        context.fireChannelInactive()
    }
}
