import Synchronization

/// A bounded, process-local replay store.
///
/// Each claim lives until its own expiry (the end of its timestamp's acceptance window). Claims are also
/// filed by expiry second, so expiring them costs one bucket per elapsed second and a claim stays O(1): no scan
/// of the whole cache under the lock.
package final class InMemoryReplayCache: E2EEReplayStore {
    private struct State {
        var expiries: [String: Int64] = [:]
        var buckets: [Int64: [String]] = [:]
        /// Every claim expiring at or before this second is gone.
        var sweptThrough: Int64?

        mutating func sweep(now: Int64) {
            guard let swept = self.sweptThrough else {
                self.sweptThrough = now
                return
            }
            guard now > swept else { return }
            if now - swept > Int64(self.buckets.count) {
                for second in self.buckets.keys where second <= now { self.expire(second) }
            } else {
                for second in (swept + 1)...now { self.expire(second) }
            }
            self.sweptThrough = now
        }

        private mutating func expire(_ second: Int64) {
            guard let keys = self.buckets.removeValue(forKey: second) else { return }
            // A key claimed again after it expired is filed under its new second too; only drop this filing's.
            for key in keys where self.expiries[key] == second { self.expiries[key] = nil }
        }
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
            state.sweep(now: now)
            if let expiry = state.expiries[key], expiry > now { return .replayed }
            guard state.expiries.count < self.capacity else { return .full }
            // A clock that stepped back could file a claim in a second already swept; file it just after.
            let second = max(expiresAt, (state.sweptThrough ?? now) + 1)
            state.expiries[key] = second
            state.buckets[second, default: []].append(key)
            return .fresh
        }
    }

    /// Live and not yet expired claims (for tests and metrics).
    package var count: Int { self.state.withLock { $0.expiries.count } }
}
