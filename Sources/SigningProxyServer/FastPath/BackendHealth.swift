/// Whether one vLLM backend of several takes new requests (docs/API.md, "Several backends"): passive
/// ejection on the failures its requests see, and back once a `/health` probe answers 200.
///
/// A value with no clock and no I/O: ``UpstreamBackend`` keeps one behind a lock and feeds it events.
struct BackendHealth: Equatable {
    /// Out of the pool's choice until a probe succeeds.
    private(set) var isEjected = false
    private(set) var consecutiveServerErrors = 0
    private(set) var consecutiveProbeFailures = 0

    /// 5xx answers in a row that eject: one can be a request vLLM could not serve; several are the backend.
    static let serverErrorsToEject = 3
    /// Failed probes in a row that eject a backend no request has found failing (one can be a busy moment).
    static let probeFailuresToEject = 2

    /// What an event changed.
    enum Change: Equatable {
        case none
        case ejected
        case restored
    }

    /// No connection could be made: the backend is down (the request goes to another one).
    mutating func connectFailed() -> Change {
        eject()
    }

    /// An answer was cut (the connection closed or failed under it): the backend died or restarted.
    mutating func answerCut() -> Change {
        eject()
    }

    /// An answer began with `status`.
    mutating func answered(status: Int) -> Change {
        guard status >= 500 else {
            consecutiveServerErrors = 0
            return .none
        }
        consecutiveServerErrors += 1
        return consecutiveServerErrors >= Self.serverErrorsToEject ? eject() : .none
    }

    /// A `/health` probe answered 200 (`healthy`), or failed, answered otherwise or timed out.
    mutating func probed(healthy: Bool) -> Change {
        guard healthy else {
            consecutiveProbeFailures += 1
            return consecutiveProbeFailures >= Self.probeFailuresToEject ? eject() : .none
        }
        let wasEjected = isEjected
        self = BackendHealth()
        return wasEjected ? .restored : .none
    }

    private mutating func eject() -> Change {
        consecutiveServerErrors = 0
        guard !isEjected else { return .none }
        isEjected = true
        return .ejected
    }

    /// Nothing counted since the last reset: an answer below 500 has nothing to clear.
    var isClear: Bool { self == BackendHealth() }
}
