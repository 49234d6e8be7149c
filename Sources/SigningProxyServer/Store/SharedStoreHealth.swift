import NIOCore
import Synchronization

/// Whether the shared store is used, after the outcomes seen so far: a circuit breaker (docs/API.md, "Shared
/// receipt store", Failures).
///
/// Up: every operation goes to Redis. `failuresToOpen` failures in a row (an error, no answer within a command's
/// timeout, or a lookup or replay claim that outlived its wait; a record's write that outlived its wait counts by
/// the answer it gets later) take it down: for `backoff` every operation skips Redis at once (records stay in this
/// replica, lookups answer from memory, replay claims from memory). After the back-off the next operation starts one
/// probe (a write, as the records' are); while it runs the others still skip. Only the probe's success brings the
/// store back: a late answer to a command sent before it went down says nothing about Redis now. A failed probe
/// doubles the back-off, up to `maxBackoff`; so does going down again within `maxBackoff` of coming back, so a
/// Redis that answers probes but fails the records' writes is retried less and less often, not every second. So a
/// dead or slow Redis costs at most `failuresToOpen` waits, then nothing.
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
        /// When the store last came back (distant past: never went down).
        var upSince = NIODeadline.distantPast
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

    /// An operation got its answer from Redis (while down: a late answer, which changes nothing).
    func succeeded() {
        state.withLock { state in
            if !state.down { state.failuresInARow = 0 }
        }
    }

    /// An operation failed or outlived its wait.
    func failed(now: NIODeadline = .now()) -> Change? {
        state.withLock { state in
            state.failuresInARow += 1
            guard !state.down, state.failuresInARow >= Self.failuresToOpen else { return nil }
            state.down = true
            // Up for a while: a fresh outage. Down again soon after coming back: the back-off goes on growing.
            state.backoff = now - state.upSince >= Self.maxBackoff ? Self.initialBackoff : min(state.backoff * 2, Self.maxBackoff)
            state.retryAt = now + state.backoff
            return .wentDown
        }
    }

    /// The probe's outcome.
    func probed(_ answered: Bool, now: NIODeadline = .now()) -> Change? {
        state.withLock { state in
            state.probing = false
            guard answered else {
                state.backoff = min(state.backoff * 2, Self.maxBackoff)
                state.retryAt = now + state.backoff
                return nil
            }
            guard state.down else { return nil }
            state.down = false
            state.failuresInARow = 0
            state.upSince = now
            return .cameBack
        }
    }
}
