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
/// extra handlers run. Here the fast path sees NIO's parsed parts directly; only requests for the
/// general router are converted, by the same codec Hummingbird uses, placed behind the fast path.
struct FastPathHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let services: FastPathServices

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            try sync.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // FastPathRouter keeps answers in order
                withErrorHandling: false,  // parse errors reach the general router, which answers 400
                withOutboundHeaderValidation: false  // the fast path writes constants; the router validates its own
            )
            try sync.addHandler(FastPathRouter(services: services))
            try sync.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try sync.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
