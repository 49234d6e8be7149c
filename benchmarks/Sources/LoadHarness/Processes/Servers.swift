import Foundation
import HarnessSupport
import NIOCore

/// The processes under test: three mock-vllm upstreams, a signing-proxy in front of each, one more
/// signing-proxy with `SIGNING_MODE=lazy` in front of the fast upstream, and one nginx with a server block
/// for each upstream. With a shared receipt store: one redis-server and two more proxies (eager and lazy)
/// in front of the fast upstream that write their records to it.
final class Servers: @unchecked Sendable {
    // Started and stopped from the harness's main task only.

    /// Which upstream a request goes to.
    enum Upstream: Int, CaseIterable, Sendable {
        /// No delay: latency and throughput.
        case fast
        /// Realistic pacing: time to first event, gaps, CPU per event.
        case paced
        /// Slow pacing: many streams held open for the memory figures.
        case hold
    }

    static let direct = "direct"
    static let signingProxy = "signing-proxy"
    /// `SIGNING_MODE=lazy`, fast upstream only: measured in the c=64 and `/v1/signature` phases.
    static let signingProxyLazy = "signing-proxy-lazy"
    static let nginx = "nginx"
    /// The same as `signingProxy` and `signingProxyLazy` (fast upstream), with the shared receipt store on
    /// (`REDIS_HOST`, `REDIS_PORT`): measured in the shared-store phase only.
    static let signingProxyRedis = "signing-proxy-redis"
    static let signingProxyLazyRedis = "signing-proxy-lazy-redis"
    static let token = "bench-token"

    let directory: String
    let binDir: String
    private var mocks: [ChildProcess] = []
    private var proxies: [ChildProcess] = []
    private var lazyProxy: ChildProcess?
    private var nginxProcess: ChildProcess?
    private var nginxPorts: [Int] = []
    private(set) var redis: ChildProcess?
    private var redisProxies: [String: ChildProcess] = [:]

    init(directory: String, binDir: String) {
        self.directory = directory
        self.binDir = binDir
    }

    var targetNames: [String] {
        nginxProcess == nil ? [Self.direct, Self.signingProxy] : [Self.direct, Self.signingProxy, Self.nginx]
    }

    /// The targets of the c=64 phase: the others and the lazy-signing proxy.
    var throughputTargetNames: [String] {
        var names = targetNames
        names.insert(Self.signingProxyLazy, at: 2)
        return names
    }

    func start(fastTokens: Int, pacedDelayMs: Int, pacedTokens: Int, holdDelayMs: Int, nginx: String?, fileLimit: Int) async throws {
        // A held stream must outlast the memory phase: enough tokens for ten minutes.
        let holdTokens = min(4_096, max(16, 600_000 / holdDelayMs))
        let shapes: [(Upstream, delay: Int, tokens: Int)] = [
            (.fast, 0, fastTokens), (.paced, pacedDelayMs, pacedTokens), (.hold, holdDelayMs, holdTokens),
        ]
        for (upstream, delay, tokens) in shapes {
            let mock = try ChildProcess(
                name: "mock-vllm (\(upstream))", executable: "\(binDir)/mock-vllm",
                arguments: ["--port", "0", "--host", "127.0.0.1", "--model", "tiny", "--tokens", "\(tokens)", "--delay-ms", "\(delay)"],
                logPath: "\(directory)/mock-\(upstream).log")
            mocks.append(mock)
            try await mock.waitForPort(pattern: #"listening on http://127\.0\.0\.1:(\d+)"#, timeout: .seconds(30))
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "info"
        environment["LOG_FORMAT"] = "text"
        environment["SIGNING_MODE"] = "eager"
        for (index, upstream) in Upstream.allCases.enumerated() {
            let proxy = try startProxy(
                name: "signing-proxy (\(upstream))", upstreamPort: mocks[index].port, environment: environment,
                logPath: "\(directory)/proxy-\(upstream).log")
            proxies.append(proxy)
            try await proxy.waitForPort(pattern: #"port=(\d+)"#, timeout: .seconds(30))
        }
        environment["SIGNING_MODE"] = "lazy"
        let lazy = try startProxy(
            name: "signing-proxy lazy (fast)", upstreamPort: mocks[Upstream.fast.rawValue].port, environment: environment,
            logPath: "\(directory)/proxy-lazy-fast.log")
        lazyProxy = lazy
        try await lazy.waitForPort(pattern: #"port=(\d+)"#, timeout: .seconds(30))
        guard let nginx else { return }
        nginxPorts = try Upstream.allCases.map { _ in try PortProbe.freePort() }
        let configuration = NginxConfiguration(
            routes: Upstream.allCases.map { (nginxPorts[$0.rawValue], mocks[$0.rawValue].port) },
            directory: directory, workerProcesses: ProcessInfo.processInfo.activeProcessorCount,
            workerConnections: max(1_024, fileLimit - 64), fileLimit: fileLimit)
        let path = "\(directory)/nginx.conf"
        try configuration.text.write(toFile: path, atomically: true, encoding: .utf8)
        let process = try ChildProcess(
            name: "nginx", executable: nginx, arguments: ["-p", directory, "-c", path, "-e", "\(directory)/error.log"],
            logPath: "\(directory)/nginx.log")
        nginxProcess = process
        for port in nginxPorts {
            try await process.waitForListening(port: port, timeout: .seconds(30))
        }
    }

    /// redis-server on a free loopback port (no persistence), and an eager and a lazy proxy in front of the
    /// fast upstream writing to it; both with one development key seed, as replicas of one app share keys.
    func startSharedStore(redisServer: String) async throws {
        let port = try PortProbe.freePort()
        let redis = try ChildProcess(
            name: "redis-server", executable: redisServer,
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", directory, "--logfile", "",
            ],
            logPath: "\(directory)/redis.log")
        self.redis = redis
        try await redis.waitForListening(port: port, timeout: .seconds(30))
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_LEVEL"] = "info"
        environment["LOG_FORMAT"] = "text"
        environment["REDIS_HOST"] = "127.0.0.1"
        environment["REDIS_PORT"] = "\(port)"
        environment["DEV_KEY_SEED"] = "bench-shared-store"
        for (name, mode) in [(Self.signingProxyRedis, "eager"), (Self.signingProxyLazyRedis, "lazy")] {
            environment["SIGNING_MODE"] = mode
            let proxy = try startProxy(
                name: "signing-proxy \(mode) with Redis (fast)", upstreamPort: mocks[Upstream.fast.rawValue].port,
                environment: environment, logPath: "\(directory)/proxy-\(mode)-redis-fast.log")
            redisProxies[name] = proxy
            try await proxy.waitForPort(pattern: #"port=(\d+)"#, timeout: .seconds(30))
        }
    }

    /// Stops the proxies with the shared store, then redis-server (the later phases run without them).
    func stopSharedStore() async {
        for process in redisProxies.values { await process.stop() }
        redisProxies = [:]
        if let redis { await redis.stop() }
        redis = nil
    }

    private func startProxy(name: String, upstreamPort: Int, environment: [String: String], logPath: String) throws -> ChildProcess {
        try ChildProcess(
            name: name, executable: "\(binDir)/signing-proxy",
            arguments: [
                "serve", "--dev", "--host", "127.0.0.1", "--port", "0",
                "--upstream", "http://127.0.0.1:\(upstreamPort)", "--model-name", "tiny", "--token", Self.token,
            ],
            environment: environment,
            logPath: logPath)
    }

    /// The lazy proxy exists for the fast upstream only; asking for it on another upstream is a harness bug.
    func port(_ name: String, _ upstream: Upstream) -> Int {
        switch name {
        case Self.signingProxy: proxies[upstream.rawValue].port
        case Self.signingProxyLazy:
            upstream == .fast ? lazyProxy?.port ?? 0 : 0
        case Self.nginx: nginxPorts[upstream.rawValue]
        case Self.signingProxyRedis, Self.signingProxyLazyRedis:
            upstream == .fast ? redisProxies[name]?.port ?? 0 : 0
        default: mocks[upstream.rawValue].port
        }
    }

    func address(_ name: String, _ upstream: Upstream) throws -> SocketAddress {
        try SocketAddress(ipAddress: "127.0.0.1", port: port(name, upstream))
    }

    /// The processes whose CPU and memory count for `name` on `upstream`.
    func pids(_ name: String, _ upstream: Upstream) -> [Int32] {
        switch name {
        case Self.signingProxy: [proxies[upstream.rawValue].pid]
        case Self.signingProxyLazy: upstream == .fast ? lazyProxy.map { [$0.pid] } ?? [] : []
        case Self.nginx: nginxProcess.map { ProcessProbe.family($0.pid) } ?? []
        case Self.signingProxyRedis, Self.signingProxyLazyRedis:
            upstream == .fast ? redisProxies[name].map { [$0.pid] } ?? [] : []
        default: [mocks[upstream.rawValue].pid]
        }
    }

    /// Resident bytes of each proxy: the signing-proxy instance in front of `upstream`, all of nginx.
    func residentBytes(_ upstream: Upstream) -> [String: Int] {
        var result = [Self.signingProxy: ProcessProbe.residentBytes(pids(Self.signingProxy, upstream))]
        if nginxProcess != nil { result[Self.nginx] = ProcessProbe.residentBytes(pids(Self.nginx, upstream)) }
        return result
    }

    func stopAll() async {
        if let nginxProcess { await nginxProcess.stop() }
        for process in proxies + [lazyProxy].compactMap({ $0 }) + Array(redisProxies.values) + mocks { await process.stop() }
        // After the proxies that write to it.
        if let redis { await redis.stop() }
    }
}
