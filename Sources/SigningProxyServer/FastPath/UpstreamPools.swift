import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One ``UpstreamPool`` per event loop, found without a lock for the loops of the shared group, over
/// the backends of ``BackendRouting``; with several backends, it probes their `/health` too.
final class UpstreamPools: Sendable {
    let routing: BackendRouting
    private let connectTimeout: TimeAmount
    private let maxIdlePerLoop: Int
    private let pools: [ObjectIdentifier: UpstreamPool]
    /// The primary backend (the default pool's first), whose `Host` and path prefix the state machine
    /// writes (other backends rewrite them); nil when its URL does not parse.
    var target: UpstreamTarget? { routing.backends[0].target }
    /// Loops outside the shared group (none in practice), created on first use.
    private let others = Mutex<[ObjectIdentifier: UpstreamPool]>([:])
    private let prober: Mutex<BackendProber?>
    private let probeGroup: MultiThreadedEventLoopGroup

    /// A base URL that does not parse, or a TLS context that cannot be made, fails every connection
    /// attempt (502) instead of the process: configuration validation reports it before serving.
    /// Per-connection objects alive now, upstream connections included.
    let live = LiveInstances()

    private let connector: UpstreamConnector?

    /// One backend at `baseURL`.
    convenience init(
        baseURL: String, connectTimeout: TimeAmount, maxIdle: Int, group: MultiThreadedEventLoopGroup, connector: UpstreamConnector? = nil
    ) {
        self.init(
            layout: BackendLayout(defaultURLs: [baseURL]), connectTimeout: connectTimeout, maxIdle: maxIdle, group: group,
            connector: connector)
    }

    /// - Parameters:
    ///   - maxIdle: idle connections kept per backend, across all loops.
    ///   - probe: the `/health` probes' interval and timeout (with several backends; nil: none).
    ///   - connector: opens connections instead of TCP (tests and fuzzing); nil for real sockets.
    init(
        layout: BackendLayout, connectTimeout: TimeAmount, maxIdle: Int, group: MultiThreadedEventLoopGroup,
        probe: (interval: TimeAmount, timeout: TimeAmount)? = nil, connector: UpstreamConnector? = nil
    ) {
        self.connector = connector
        let routing = BackendRouting(layout: layout)
        self.routing = routing
        self.connectTimeout = connectTimeout
        self.probeGroup = group
        var loops: [any EventLoop] = []
        for loop in group.makeIterator() { loops.append(loop) }
        let perLoop = max(1, maxIdle / max(1, loops.count))
        self.maxIdlePerLoop = perLoop
        var pools: [ObjectIdentifier: UpstreamPool] = [:]
        for loop in loops {
            pools[ObjectIdentifier(loop)] = UpstreamPool(
                eventLoop: loop, routing: routing, connectTimeout: connectTimeout, maxIdle: perLoop, live: live, connector: connector)
        }
        self.pools = pools
        self.prober = Mutex(nil)
        if let probe, routing.hasSeveralBackends {
            prober.withLock { $0 = BackendProber(backends: routing.backends, interval: probe.interval, timeout: probe.timeout) }
        }
    }

    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        if let pool = pools[key] { return pool }
        return others.withLock { others in
            if let pool = others[key] { return pool }
            let pool = UpstreamPool(
                eventLoop: eventLoop, routing: routing, connectTimeout: connectTimeout, maxIdle: maxIdlePerLoop, live: live,
                connector: connector)
            others[key] = pool
            return pool
        }
    }

    /// Starts the `/health` probes (with several backends), on one loop of the group.
    func startProbing() {
        let pool = pool(for: probeGroup.next())
        prober.withLock { $0?.start(pool: pool) }
    }

    /// Stops the probes and closes every idle connection, each on its own loop.
    func shutdown() async {
        prober.withLock { $0?.stop() }
        let all = Array(pools.values) + others.withLock { Array($0.values) }
        for pool in all {
            try? await pool.eventLoop.submit { pool.shutdown() }.get()
        }
    }

    /// Each backend's requests sent and in flight, health, ejections and failed probes, in Prometheus text
    /// (docs/API.md, Metrics). The labels are the configured base URLs.
    func renderMetrics() -> String {
        let backends = routing.backends
        func family(_ name: String, _ type: String, _ value: (UpstreamBackend) -> Int) -> String {
            var text = "# TYPE \(name) \(type)\n"
            for backend in backends {
                text += "\(name){backend=\"\(Self.escapeLabel(backend.url))\"} \(value(backend))\n"
            }
            return text
        }
        return family("signing_proxy_backend_requests_total", "counter") { $0.requests }
            + family("signing_proxy_backend_in_flight", "gauge") { $0.inFlight }
            + family("signing_proxy_backend_healthy", "gauge") { $0.isEjected ? 0 : 1 }
            + family("signing_proxy_backend_ejections_total", "counter") { $0.ejections }
            + family("signing_proxy_backend_probe_failures_total", "counter") { $0.probeFailures }
    }

    /// A label value as the exposition format quotes it.
    private static func escapeLabel(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
