import Synchronization

/// Wakes a connection's general-router task when the connection first needs Hummingbird, or tells it
/// the connection closed first.
///
/// Hummingbird's per-connection machinery (an async channel and a task iterating it) costs about
/// 8 KB per connection. Most connections carry only completions, which never use it, so it is set up
/// on the first request for another route.
final class GeneralRouterGate: Sendable {
    enum Outcome: Sendable { case needed, closed }

    private struct State {
        var outcome: Outcome?
        var waiter: CheckedContinuation<Outcome, Never>?
    }

    private let state = Mutex(State())

    /// The first outcome wins; later ones are ignored.
    func resolve(_ outcome: Outcome) {
        let waiter = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: outcome)
    }

    func wait() async -> Outcome {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Outcome? in
                if let outcome = state.outcome { return outcome }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
