import NIOCore
import NIOPosix

/// A TCP listener on 127.0.0.1 that answers every read from a client with a fixed behaviour, to show what the client
/// does with a server that is not Redis, is broken, or hangs.
final class FakeRedisServer: Sendable {
    enum Behaviour: Sendable {
        /// Writes these bytes in reply to each read.
        case reply(String)
        /// Writes these bytes one at a time, each flushed, then keeps the connection open.
        case dribble(String)
        /// Reads and never answers.
        case silent
        /// Closes the connection on the first read.
        case close
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let behaviour: Behaviour

        init(behaviour: Behaviour) { self.behaviour = behaviour }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch behaviour {
            case .reply(let bytes):
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: bytes)), promise: nil)
            case .dribble(let bytes):
                for byte in bytes.utf8 {
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [byte])), promise: nil)
                }
            case .silent:
                break
            case .close:
                context.close(promise: nil)
            }
        }
    }

    private let channel: any Channel
    var port: Int { channel.localAddress!.port! }

    private init(channel: any Channel) { self.channel = channel }

    static func start(_ behaviour: Behaviour) async throws -> FakeRedisServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(behaviour: behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeRedisServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}
