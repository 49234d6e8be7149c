import NIOCore
import Synchronization

/// Probes every backend's `GET {base}/health` on an interval, each on a new connection with a short
/// timeout: a 200 brings an ejected backend back; failures in a row eject one that no request has
/// found down yet (``BackendHealth``). Runs only with several backends.
final class BackendProber: Sendable {
    private let backends: [UpstreamBackend]
    private let interval: TimeAmount
    private let timeout: TimeAmount
    private let task = Mutex<RepeatedTask?>(nil)

    init(backends: [UpstreamBackend], interval: TimeAmount, timeout: TimeAmount) {
        self.backends = backends
        self.interval = interval
        self.timeout = timeout
    }

    /// Probes on `pool`'s loop, every `interval` after the previous round ended, until ``stop()``.
    func start(pool: UpstreamPool) {
        let backends = self.backends
        let timeout = self.timeout
        let repeated = pool.eventLoop.scheduleRepeatedAsyncTask(initialDelay: interval, delay: interval) { _ in
            let probes = backends.map { backend in
                UpstreamFetch.probe(backend, pool: pool, timeout: timeout).map { answer in
                    backend.probed(healthy: answer.status == 200)
                }.recover { _ in
                    backend.probed(healthy: false)
                }
            }
            return EventLoopFuture.andAllComplete(probes, on: pool.eventLoop)
        }
        task.withLock { $0 = repeated }
    }

    func stop() {
        task.withLock { task in
            task?.cancel()
            task = nil
        }
    }
}
