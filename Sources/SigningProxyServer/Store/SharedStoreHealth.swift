import NIOCore
import Synchronization

/// Whether the shared store is used, after the outcomes seen so far: a circuit breaker (docs/API.md, "Shared
/// receipt store", Failures).
///
/// Up: every operation goes to Redis. `failuresToOpen` failures in a row (an error, no answer within a command's
/// timeout, or a lookup or replay claim that outlived its wait; a record's write that outlived its wait counts by
/// the answer it gets later) take it down: for `backoff` every operation skips Redis at once (records stay in this replica, lookups
/// answer from memory, replay claims from memory). After the back-off the next operation starts one PING; while it
/// runs the others still skip. Its answer within the write wait brings the store up; otherwise the back-off doubles,
/// up to `maxBackoff`. So a dead or slow Redis costs at most `failuresToOpen` waits, then nothing.
final class SharedStoreHealth: Sendable {
    enum Permission: Equatable {
        case use
        case skip
        /// Skip, and send the probe: the caller must report its outcome with ``probed(_:)``.
        case probe
    }

    /// A change to log and export, once per change.
    enum Change: Equatable {
        case wentDown
        case cameBack
    }

    static let failuresToOpen = 3
    static let initialBackoff = TimeAmount.seconds(1)
    static let maxBackoff = TimeAmount.seconds(30)

    private struct State {
        var failuresInARow = 0
        var down = false
        var retryAt = NIODeadline.distantPast
        var backoff = SharedStoreHealth.initialBackoff
        var probing = false
    }

    private let state = Mutex(State())

    var isUp: Bool { state.withLock { !$0.down } }

    func permission(now: NIODeadline = .now()) -> Permission {
        state.withLock { state in
            guard state.down else { return .use }
            guard !state.probing, now >= state.retryAt else { return .skip }
            state.probing = true
            return .probe
        }
    }

    /// An operation got its answer from Redis.
    func succeeded() -> Change? {
        state.withLock { state in
            state.failuresInARow = 0
            guard state.down else { return nil }
            // An operation started before the store went down answered: it is back.
            state.down = false
            state.probing = false
            state.backoff = Self.initialBackoff
            return .cameBack
        }
    }

    /// An operation failed or outlived its wait.
    func failed(now: NIODeadline = .now()) -> Change? {
        state.withLock { state in
            state.failuresInARow += 1
            guard !state.down, state.failuresInARow >= Self.failuresToOpen else { return nil }
            state.down = true
            state.backoff = Self.initialBackoff
            state.retryAt = now + state.backoff
            return .wentDown
        }
    }

    /// The probe's outcome.
    func probed(_ answered: Bool, now: NIODeadline = .now()) -> Change? {
        if answered { return succeeded() }
        state.withLock { state in
            state.probing = false
            state.backoff = min(state.backoff * 2, Self.maxBackoff)
            state.retryAt = now + state.backoff
        }
        return nil
    }
}
