import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keep-alive connections to vLLM owned by one event loop, so a request and its upstream share a thread.
///
/// Every method must be called on `eventLoop`; the type is `@unchecked Sendable` only so the registry
/// can hold one per loop.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    private let endpoint: Result<UpstreamEndpoint, UpstreamSetupError>
    private let connectTimeout: TimeAmount
    private let maxIdle: Int
    private let live: LiveInstances
    private let connector: UpstreamConnector?
    /// Most recently used last: the warmest connection is reused first.
    private var idle: [UpstreamConnection] = []
    private var isShutDown = false

    /// Idle connections older than this are closed instead of reused: uvicorn, which serves vLLM,
    /// closes keep-alive connections after 5 s by default, and a request sent into that close is lost.
    static let idleLimit = TimeAmount.milliseconds(4_000)

    init(
        eventLoop: any EventLoop, endpoint: Result<UpstreamEndpoint, UpstreamSetupError>, connectTimeout: TimeAmount, maxIdle: Int,
        live: LiveInstances, connector: UpstreamConnector? = nil
    ) {
        self.eventLoop = eventLoop
        self.live = live
        self.connector = connector
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.maxIdle = maxIdle
    }

    /// Hands out a warm idle connection at once, else connects a new one on this loop.
    /// - Parameters:
    ///   - fresh: skip idle connections (a retry after a reused connection closed under a request).
    ///   - completion: called on this loop with the connection and whether it was reused.
    func acquire(fresh: Bool = false, _ completion: @escaping (Result<(UpstreamConnection, reused: Bool), any Error>) -> Void) {
        eventLoop.preconditionInEventLoop()
        if !fresh {
            let now = NIODeadline.now()
            while let connection = idle.popLast() {
                if connection.isOpen && now - connection.idleSince < Self.idleLimit {
                    completion(.success((connection, reused: true)))
                    return
                }
                discard(connection)
            }
        }
        connect().assumeIsolated().whenComplete { result in
            completion(result.flatMap { channel in
                Result {
                    let connection = try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                    connection.pool = self
                    return (connection, reused: false)
                }
            })
        }
    }

    /// Takes a connection back after a complete response; anything else is closed.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.delegate = nil
        connection.resumeReads()
        guard reusable, connection.isOpen, !isShutDown, idle.count < maxIdle else {
            discard(connection)
            return
        }
        connection.idleSince = .now()
        idle.append(connection)
    }

    /// Called by a connection that closed, idle or not.
    func connectionClosed(_ connection: UpstreamConnection) {
        if let index = idle.lastIndex(where: { $0 === connection }) {
            idle.remove(at: index)
        }
    }

    /// Closes the idle connections and stops keeping new ones.
    func shutdown() {
        isShutDown = true
        let connections = idle
        idle = []
        for connection in connections {
            discard(connection)
        }
    }

    /// Closes a connection that is not (or no longer) in `idle`, without the pool hearing of it.
    private func discard(_ connection: UpstreamConnection) {
        connection.pool = nil
        connection.close()
    }

    private func connect() -> EventLoopFuture<any Channel> {
        let target: UpstreamTarget
        let sslContext: NIOSSLContext?
        switch endpoint {
        case .success(let endpoint):
            target = endpoint.target
            sslContext = endpoint.sslContext
        case .failure(let error):
            return eventLoop.makeFailedFuture(error)
        }
        let serverHostname = Self.isIPAddress(target.host) ? nil : target.host
        let live = self.live
        let initialize: UpstreamConnector.Initializer = { channel in
            let sync = channel.pipeline.syncOperations
            if let sslContext {
                try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
            }
            // The proxy writes every upstream header itself, from constants and validated values.
            try sync.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
            try sync.addHandler(UpstreamConnection(live: live))
        }
        if let connector { return connector.connect(eventLoop, initialize) }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            // tcpOption, not socketOption: TCP_NODELAY at the SOL_SOCKET level is SO_DEBUG, which needs CAP_NET_ADMIN,
            // so every upstream connect failed in a container (found by the image test, docs/DEPLOY.md).
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: FastPathServices.receiveAllocator)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try initialize(channel) } }
        return bootstrap.connect(host: target.host, port: target.port)
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
