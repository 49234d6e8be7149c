import NIOCore
import Synchronization

/// Per-client rate and concurrency limits, per replica (docs/API.md, Rate limits): one token bucket per
/// client (the token that authenticated it, or its IP address on routes that need none) and, per token,
/// a count of requests in flight. Shared by every event loop.
final class RateLimiter: Sendable {
    /// Who a limit applies to. Tokens are named by their position in `TOKEN`, never by their value.
    enum Client: Hashable, Sendable {
        case token(Int)
        case address(String)
    }

    /// A request admitted under a concurrency limit: `release()` it when its answer ends.
    final class Lease: Sendable {
        private let limiter: RateLimiter
        private let token: Int
        private let released = Mutex(false)

        fileprivate init(limiter: RateLimiter, token: Int) {
            self.limiter = limiter
            self.token = token
        }

        /// Idempotent.
        func release() {
            let first = released.withLock { done in
                defer { done = true }
                return !done
            }
            if first { limiter.release(token) }
        }

        deinit { release() }
    }

    enum Admission {
        /// Go on; release the lease (if any) when the answer ends.
        case admitted(Lease?)
        /// 429, with `Retry-After` in whole seconds.
        case limited(retryAfter: Int)
    }

    private struct State {
        var buckets: [Client: TokenBucket] = [:]
        var inFlight: [Int: Int] = [:]
        var sweptAt: NIODeadline?
    }

    let settings: RateLimitSettings
    /// Most clients tracked at once; past it, full buckets are forgotten first, then the client is let
    /// through rather than remembered (the map must not grow with spoofed or many addresses).
    let maxClients: Int
    private let state = Mutex(State())

    init(settings: RateLimitSettings, maxClients: Int = 100_000) {
        self.settings = settings
        self.maxClients = maxClients
    }

    /// Admits one request from `client` at `now`.
    func admit(_ client: Client, now: NIODeadline) -> Admission {
        state.withLock { state in
            if case .token(let token) = client, let limit = settings.maxConcurrent, state.inFlight[token, default: 0] >= limit {
                // A request in flight ends at an unknown time: ask again in a second.
                return .limited(retryAfter: 1)
            }
            var bucket = state.buckets[client] ?? TokenBucket(rate: settings.perSecond, burst: settings.burst, now: now)
            if let wait = bucket.take(now: now) {
                state.buckets[client] = bucket
                return .limited(retryAfter: max(1, Int((Double(wait.nanoseconds) / 1_000_000_000).rounded(.up))))
            }
            if state.buckets[client] != nil || state.buckets.count < maxClients || Self.sweep(&state, now: now, limit: maxClients) {
                state.buckets[client] = bucket
            }
            guard case .token(let token) = client, settings.maxConcurrent != nil else { return .admitted(nil) }
            state.inFlight[token, default: 0] += 1
            return .admitted(Lease(limiter: self, token: token))
        }
    }

    /// Clients tracked now (for tests and metrics).
    var trackedClients: Int { state.withLock { $0.buckets.count } }

    /// Requests of `token` in flight now.
    func inFlight(token: Int) -> Int { state.withLock { $0.inFlight[token, default: 0] } }

    fileprivate func release(_ token: Int) {
        state.withLock { state in
            let count = state.inFlight[token, default: 0] - 1
            state.inFlight[token] = count > 0 ? count : nil
        }
    }

    /// Forgets full buckets, at most once a second. - Returns: whether there is room now.
    private static func sweep(_ state: inout State, now: NIODeadline, limit: Int) -> Bool {
        if let last = state.sweptAt, now - last < .seconds(1) { return state.buckets.count < limit }
        state.sweptAt = now
        state.buckets = state.buckets.filter { !$0.value.isFull(now: now) }
        return state.buckets.count < limit
    }
}
