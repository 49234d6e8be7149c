import Synchronization

/// A bounded, process-local replay store.
///
/// Each claim lives until its own expiry (the end of its timestamp's acceptance window), and expired claims
/// are swept at most once a second or when the cache is full, so a claim costs one hash lookup.
package final class InMemoryReplayCache: E2EEReplayStore {
    private struct State {
        var expiries: [String: Int64] = [:]
        var nextSweep: Int64 = .min
    }

    private let state = Mutex(State())
    /// The most live claims held at once.
    package let capacity: Int

    package init(capacity: Int = 1_000_000) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    package func claim(_ key: String, expiresAt: Int64, now: Int64) async -> E2EEReplayVerdict {
        self.claimNow(key, expiresAt: expiresAt, now: now)
    }

    /// The synchronous claim (for callers already on a thread of their own).
    package func claimNow(_ key: String, expiresAt: Int64, now: Int64) -> E2EEReplayVerdict {
        self.state.withLock { state in
            if let expiry = state.expiries[key], expiry > now { return .replayed }
            if now >= state.nextSweep || state.expiries.count >= self.capacity {
                state.expiries = state.expiries.filter { $0.value > now }
                state.nextSweep = now + 1
            }
            guard state.expiries.count < self.capacity else { return .full }
            state.expiries[key] = expiresAt
            return .fresh
        }
    }

    /// Live and not yet swept claims (for tests and metrics).
    package var count: Int { self.state.withLock { $0.expiries.count } }
}
