import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keep-alive connections to vLLM owned by one event loop, so a request and its upstream share a thread.
/// With several backends it chooses one per request (``BackendGroup``) and keeps idle connections per backend.
///
/// Every method must be called on `eventLoop`; the type is `@unchecked Sendable` only so the registry
/// can hold one per loop.
final class UpstreamPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    let routing: BackendRouting
    private let connectTimeout: TimeAmount
    /// Per backend.
    private let maxIdle: Int
    private let live: LiveInstances
    private let connector: UpstreamConnector?
    /// Per backend (``UpstreamBackend/index``), most recently used last: the warmest connection is reused first.
    private var idle: [[UpstreamConnection]]
    private var isShutDown = false

    /// Idle connections older than this are closed instead of reused: uvicorn, which serves vLLM,
    /// closes keep-alive connections after 5 s by default, and a request sent into that close is lost.
    static let idleLimit = TimeAmount.milliseconds(4_000)

    init(
        eventLoop: any EventLoop, routing: BackendRouting, connectTimeout: TimeAmount, maxIdle: Int,
        live: LiveInstances, connector: UpstreamConnector? = nil
    ) {
        self.eventLoop = eventLoop
        self.routing = routing
        self.live = live
        self.connector = connector
        self.connectTimeout = connectTimeout
        self.maxIdle = maxIdle
        idle = Array(repeating: [], count: routing.backends.count)
    }

    /// Chooses a backend of the request's pool and hands out a warm idle connection to it at once, else
    /// connects a new one on this loop. A backend that cannot be connected to is ejected and the request
    /// goes to another of its pool that is not, so a dead backend costs no request.
    /// - Parameters:
    ///   - fresh: skip idle connections (a retry after a reused connection closed under a request).
    ///   - model: the request's top-level `model`, which picks the pool (``BackendRouting/group(for:)``).
    ///   - group: the pool, in place of `model`'s.
    ///   - completion: called on this loop with the connection and whether it was reused.
    func acquire(
        fresh: Bool = false, model: String? = nil, group: BackendGroup? = nil,
        _ completion: @escaping (Result<(UpstreamConnection, reused: Bool), any Error>) -> Void
    ) {
        eventLoop.preconditionInEventLoop()
        acquire(fresh: fresh, group: group ?? routing.group(for: model), tried: 0, failure: nil, completion)
    }

    private func acquire(
        fresh: Bool, group: BackendGroup, tried: UInt64, failure: (any Error)?,
        _ completion: @escaping (Result<(UpstreamConnection, reused: Bool), any Error>) -> Void
    ) {
        guard let (backend, bit) = group.select(tried: tried, allowEjected: tried == 0) else {
            completion(.failure(failure ?? UpstreamSetupError.invalidBaseURL))
            return
        }
        backend.lease()
        if !fresh {
            let now = NIODeadline.now()
            while let connection = idle[backend.index].popLast() {
                if connection.isOpen && now - connection.idleSince < Self.idleLimit {
                    connection.leased(reused: true)
                    completion(.success((connection, reused: true)))
                    return
                }
                discard(connection)
            }
        }
        connect(backend, timeout: connectTimeout).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                do {
                    let connection = try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                    connection.pool = self
                    connection.backend = backend
                    connection.leased(reused: false)
                    completion(.success((connection, reused: false)))
                } catch {
                    backend.endLease()
                    completion(.failure(error))
                }
            case .failure(let error):
                backend.endLease()
                backend.connectFailed(error)
                // Nothing was sent: another backend of the pool may take the request.
                acquire(fresh: fresh, group: group, tried: tried | bit, failure: error, completion)
            }
        }
    }

    /// Takes a connection back after a complete response; anything else is closed.
    func release(_ connection: UpstreamConnection, reusable: Bool) {
        connection.delegate = nil
        connection.endLease()
        connection.resumeReads()
        guard let backend = connection.backend, reusable, connection.isOpen, !isShutDown, idle[backend.index].count < maxIdle
        else {
            discard(connection)
            return
        }
        connection.idleSince = .now()
        idle[backend.index].append(connection)
    }

    /// Called by a connection that closed, idle or not.
    func connectionClosed(_ connection: UpstreamConnection) {
        guard let backend = connection.backend else { return }
        if let index = idle[backend.index].lastIndex(where: { $0 === connection }) {
            idle[backend.index].remove(at: index)
        }
    }

    /// Closes the idle connections and stops keeping new ones.
    func shutdown() {
        isShutDown = true
        let connections = idle.flatMap { $0 }
        idle = Array(repeating: [], count: idle.count)
        for connection in connections {
            discard(connection)
        }
    }

    /// A new connection to `backend` for one `/health` probe, outside the pool: not leased, never reused.
    /// - Parameter completion: called on this loop.
    func probeConnection(
        to backend: UpstreamBackend, timeout: TimeAmount, _ completion: @escaping (Result<UpstreamConnection, any Error>) -> Void
    ) {
        connect(backend, timeout: timeout).assumeIsolated().whenComplete { result in
            completion(result.flatMap { channel in
                Result { try channel.pipeline.syncOperations.handler(type: UpstreamConnection.self) }
            })
        }
    }

    /// Closes a connection that is not (or no longer) in `idle`, without the pool hearing of it.
    private func discard(_ connection: UpstreamConnection) {
        connection.pool = nil
        connection.close()
    }

    private func connect(_ backend: UpstreamBackend, timeout: TimeAmount) -> EventLoopFuture<any Channel> {
        let target: UpstreamTarget
        let sslContext: NIOSSLContext?
        switch backend.endpoint {
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
            .connectTimeout(timeout)
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
