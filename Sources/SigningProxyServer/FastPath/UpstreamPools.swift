import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One ``UpstreamPool`` per event loop, found without a lock for the loops of the shared group.
final class UpstreamPools: Sendable {
    private let endpoint: Result<UpstreamEndpoint, UpstreamSetupError>
    private let connectTimeout: TimeAmount
    private let maxIdlePerLoop: Int
    private let pools: [ObjectIdentifier: UpstreamPool]
    /// The parsed upstream; nil when `VLLM_BASE_URL` does not parse.
    var target: UpstreamTarget? { try? endpoint.get().target }
    /// Loops outside the shared group (none in practice), created on first use.
    private let others = Mutex<[ObjectIdentifier: UpstreamPool]>([:])

    /// A base URL that does not parse, or a TLS context that cannot be made, fails every connection
    /// attempt (502) instead of the process: configuration validation reports it before serving.
    /// Per-connection objects alive now, upstream connections included.
    let live = LiveInstances()

    private let connector: UpstreamConnector?

    /// - Parameter connector: opens connections instead of TCP (tests and fuzzing); nil for real sockets.
    init(baseURL: String, connectTimeout: TimeAmount, maxIdle: Int, group: MultiThreadedEventLoopGroup, connector: UpstreamConnector? = nil) {
        self.connector = connector
        self.endpoint = UpstreamEndpoint.make(baseURL: baseURL)
        self.connectTimeout = connectTimeout
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        let perLoop = max(1, maxIdle / max(1, loops.count))
        self.maxIdlePerLoop = perLoop
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in loops {
            pools[ObjectIdentifier(loop)] = UpstreamPool(
                eventLoop: loop, endpoint: endpoint, connectTimeout: connectTimeout, maxIdle: perLoop, live: live, connector: connector)
        }
        self.pools = pools
    }

    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        if let pool = pools[key] { return pool }
        return others.withLock { others in
            if let pool = others[key] { return pool }
            let pool = UpstreamPool(
                eventLoop: eventLoop, endpoint: endpoint, connectTimeout: connectTimeout, maxIdle: maxIdlePerLoop, live: live, connector: connector)
            others[key] = pool
            return pool
        }
    }

    /// Closes every idle connection, each on its own loop.
    func shutdown() async {
        let all = Array(pools.values) + others.withLock { Array($0.values) }
        for pool in all {
            try? await pool.eventLoop.submit { pool.shutdown() }.get()
        }
    }
}
