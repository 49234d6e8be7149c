import Logging
import Synchronization

/// One vLLM backend, shared by every event loop: its endpoint, the requests in flight on it, and its
/// health (docs/API.md, "Several backends"). Counts are atomics, so choosing a backend takes no lock;
/// the health value changes under a lock only on a failure, a probe, or the first success after one.
final class UpstreamBackend: Sendable {
    /// Its position in ``BackendRouting/backends``, and so in each pool's idle lists.
    let index: Int
    /// The base URL as configured: the `backend` label of its metrics.
    let url: String
    let endpoint: Result<UpstreamEndpoint, UpstreamSetupError>
    /// How requests built for the primary backend (the state machine's `Host` and path prefix) are
    /// addressed to this one; nil for the primary and any backend with the same host and prefix.
    let rewrite: Rewrite?
    /// Whether failures eject it: only with several backends, where another can take the requests.
    private let ejects: Bool

    private let inFlightCount = Atomic<Int>(0)
    private let ejectedFlag = Atomic<Bool>(false)
    /// Set while `health` counts something, so that an answer below 500 after a clean run takes no lock.
    private let counting = Atomic<Bool>(false)
    private let health = Mutex(BackendHealth())
    private let ejectionCount = Atomic<Int>(0)
    private let requestCount = Atomic<Int>(0)
    private let probeFailureCount = Atomic<Int>(0)

    private static let logger = Logger(label: "signing-proxy.backends")

    struct Rewrite: Sendable, Equatable {
        var host: String
        /// The primary's path prefix, replaced by this backend's.
        var fromPrefix: String
        var toPrefix: String

        func uri(_ uri: String) -> String {
            guard fromPrefix != toPrefix else { return uri }
            return toPrefix + (uri.hasPrefix(fromPrefix) ? String(uri.dropFirst(fromPrefix.count)) : uri)
        }
    }

    init(index: Int, url: String, primary: UpstreamTarget?, ejects: Bool) {
        self.index = index
        self.url = url
        self.ejects = ejects
        endpoint = UpstreamEndpoint.make(baseURL: url)
        if let target = try? endpoint.get().target, let primary,
            target.hostHeader != primary.hostHeader || target.basePath != primary.basePath
        {
            rewrite = Rewrite(host: target.hostHeader, fromPrefix: primary.basePath, toPrefix: target.basePath)
        } else {
            rewrite = nil
        }
    }

    var target: UpstreamTarget? { try? endpoint.get().target }
    var inFlight: Int { inFlightCount.load(ordering: .relaxed) }
    var isEjected: Bool { ejectedFlag.load(ordering: .relaxed) }
    var ejections: Int { ejectionCount.load(ordering: .relaxed) }
    /// Requests sent to it (a retry on a new connection counts again).
    var requests: Int { requestCount.load(ordering: .relaxed) }
    var probeFailures: Int { probeFailureCount.load(ordering: .relaxed) }

    /// A request was given to it; ``endLease()`` once its connection is released, closed or never made.
    func lease() {
        inFlightCount.add(1, ordering: .relaxed)
    }

    func endLease() {
        inFlightCount.subtract(1, ordering: .relaxed)
    }

    func requestSent() {
        requestCount.add(1, ordering: .relaxed)
    }

    func connectFailed(_ error: any Error) {
        update("connect failed: \(error)") { $0.connectFailed() }
    }

    func answerCut(_ error: (any Error)?) {
        update("answer cut: \(error.map { "\($0)" } ?? "connection closed")") { $0.answerCut() }
    }

    func answered(status: Int) {
        // The common case, a success after successes, reads one flag.
        guard status >= 500 || counting.load(ordering: .relaxed) else { return }
        update("\(status) answers in a row") { $0.answered(status: status) }
    }

    func probed(healthy: Bool) {
        if !healthy { probeFailureCount.add(1, ordering: .relaxed) }
        guard !healthy || counting.load(ordering: .relaxed) else { return }
        update("health probe failed") { $0.probed(healthy: healthy) }
    }

    private func update(_ reason: @autoclosure () -> String, _ event: (inout BackendHealth) -> BackendHealth.Change) {
        guard ejects else { return }
        let change = health.withLock { health in
            let change = event(&health)
            ejectedFlag.store(health.isEjected, ordering: .relaxed)
            counting.store(!health.isClear, ordering: .relaxed)
            return change
        }
        switch change {
        case .none:
            break
        case .ejected:
            ejectionCount.add(1, ordering: .relaxed)
            Self.logger.warning("backend ejected", metadata: ["backend": "\(url)", "reason": "\(reason())"])
        case .restored:
            Self.logger.info("backend back after a healthy probe", metadata: ["backend": "\(url)"])
        }
    }
}
