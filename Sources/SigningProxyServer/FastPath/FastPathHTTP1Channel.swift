import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with ``FastPathRouter`` placed right after NIO's HTTP codec.
///
/// Hummingbird's own channel converts every request and response to swift-http-types before its
/// extra handlers run, and keeps an async channel and a task per connection. Here the fast path sees
/// NIO's parsed parts directly, and the general router's part of the pipeline (the same codec and
/// connection-state handler Hummingbird uses, and its async channel) is added behind the fast path
/// only when a request for another route arrives.
struct FastPathHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = FastPathConnection

    let responder: HTTPChannelHandler.Responder
    let services: FastPathServices

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let gate = GeneralRouterGate()
            guard services.connections.admit(channel) else {
                services.metrics.increment(.connectionsRefused)
                gate.resolve(.closed)
                try channel.pipeline.syncOperations.addHandler(OverCapacityHandler(linger: FastPathRouter.lingerTimeout))
                return FastPathConnection(channel: channel, gate: gate)
            }
            // Requests and SSE events are small; start reads at 1 KB rather than 2 (it adapts upward),
            // which matters at 10 000 open streams.
            try channel.syncOptions?.setOption(.recvAllocator, value: FastPathServices.receiveAllocator)
            let sync = channel.pipeline.syncOperations
            let observer = ClientBytesObserver()
            try sync.addHandler(observer)
            try sync.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // FastPathRouter keeps answers in order
                withErrorHandling: false,  // FastPathRouter or the general router answers parse errors
                withOutboundHeaderValidation: false  // the fast path writes constants; the router validates its own
            )
            let router = FastPathRouter(services: services, gate: gate)
            observer.router = router
            try sync.addHandler(router)
            return FastPathConnection(channel: channel, gate: gate)
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard await value.gate.wait() == .needed else { return }
        let channel = value.channel
        let asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>
        do {
            asyncChannel = try await channel.eventLoop.submit {
                let sync = channel.pipeline.syncOperations
                try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                    wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                // Only now may the parts held for the general router flow on.
                try sync.handler(type: FastPathRouter.self).generalRouterInstalled()
                return asyncChannel
            }.get()
        } catch {
            logger.debug("general router not installed; closing the connection", metadata: ["error": "\(error)"])
            channel.close(promise: nil)
            return
        }
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
