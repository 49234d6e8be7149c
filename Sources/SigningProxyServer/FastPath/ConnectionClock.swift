import NIOCore

/// A client connection's timeouts (docs/API.md, "Connections, timeouts and limits") as a value: what the
/// connection is waiting for, and until when. ``FastPathRouter`` reports what happens and arms one timer at
/// ``deadline``; when it fires, ``timerFired(now:)`` says what expired.
struct ConnectionClock {
    struct Limits: Sendable {
        var header: TimeAmount
        var body: TimeAmount
        /// Bytes per second a body must keep up once `body` has passed.
        var bodyMinRate: Int
        var keepAlive: TimeAmount
        /// How long a refused connection's input is drained before closing.
        var linger: TimeAmount
    }

    /// What the connection is waiting for, which decides the timeout that applies.
    enum Phase: Equatable {
        /// Between requests. A fresh connection waits for its first request's head.
        case idle(fresh: Bool)
        /// Bytes of a request head have arrived. `headerDue` is the head's deadline, applied at the
        /// end of the read unless the head arrived meanwhile: most heads arrive whole in one read,
        /// and then no deadline moves for them.
        case receivingHead(headerDue: NIODeadline?)
        /// A fast-path request body: `bytes` so far, since `start`.
        case receivingBody(start: NIODeadline, bytes: Int)
        /// A response is being produced or written; no client timeout applies.
        case busy
        /// Closing: the last answer is being written, or the input drained until the linger deadline.
        case closing
    }

    /// What a timer found expired.
    enum Expiry: Equatable {
        /// An idle keep-alive connection, or one that never sent a byte: closed.
        case idle
        /// A head that did not arrive in time: 408.
        case head
        /// A body slower than the minimum rate: 408.
        case body
        /// A closing connection's time is up.
        case closing
    }

    let limits: Limits
    private(set) var phase = Phase.idle(fresh: true)
    /// When the current phase times out (nil: no timeout applies). The router's timer fires at or
    /// before it and re-arms itself, so moving it later (every body part does) costs no timer work.
    private(set) var deadline: NIODeadline?

    /// - Parameter now: when the connection opened; its first head is due from then.
    init(limits: Limits, now: NIODeadline) {
        self.limits = limits
        deadline = now + limits.header
    }

    /// Whether the router must report ``bytesArrived(now:)``: only between requests.
    var awaitingRequestBytes: Bool {
        if case .idle = phase { return true }
        return false
    }

    /// Raw bytes arrived ahead of the HTTP decoder.
    /// - Returns: whether they begin a new request (the connection was idle).
    mutating func bytesArrived(now: NIODeadline) -> Bool {
        guard case .idle(let fresh) = phase else { return false }
        // A fresh connection's first head was due from the moment it opened.
        phase = .receivingHead(headerDue: fresh ? nil : now + limits.header)
        return true
    }

    /// The end of a read: a head still incomplete is now on its own deadline.
    mutating func readComplete() {
        guard case .receivingHead(let due?) = phase else { return }
        phase = .receivingHead(headerDue: nil)
        deadline = due
    }

    /// A request is being served with no body left to read.
    mutating func busy() {
        phase = .busy
        // The timer stays armed; it finds no deadline when it fires. Requests come and go far more
        // often than timers fire, so no timer is scheduled or cancelled per request.
        deadline = nil
    }

    /// A fast-path request's body is to be read.
    mutating func bodyStarted(now: NIODeadline) {
        phase = .receivingBody(start: now, bytes: 0)
        deadline = bodyDeadline(start: now, bytes: 0)
    }

    /// A body part arrived.
    mutating func bodyReceived(_ count: Int) {
        guard case .receivingBody(let start, let bytes) = phase else { return }
        phase = .receivingBody(start: start, bytes: bytes + count)
        deadline = bodyDeadline(start: start, bytes: bytes + count)
    }

    private func bodyDeadline(start: NIODeadline, bytes: Int) -> NIODeadline {
        // The body may take `body` whatever its pace; each further second must be paid for with
        // `bodyMinRate` bytes already received.
        let earned = TimeAmount.nanoseconds(Int64(bytes) * 1_000_000_000 / Int64(limits.bodyMinRate))
        return start + limits.body + earned
    }

    /// The connection is between requests again: the keep-alive timeout applies.
    mutating func becameIdle(now: NIODeadline) {
        phase = .idle(fresh: false)
        deadline = now + limits.keepAlive
    }

    /// The connection closes after what is being written; bounded even if the client never reads it.
    mutating func closing(now: NIODeadline) {
        phase = .closing
        deadline = now + limits.keepAlive
    }

    /// The connection is closed at once: nothing more is timed.
    mutating func closed() {
        phase = .closing
        deadline = nil
    }

    /// A refusal was written in full: the input is drained for `linger` more.
    mutating func lingering(now: NIODeadline) {
        deadline = now + limits.linger
    }

    /// The router's timer fired.
    /// - Returns: what expired, or nil; when the deadline is still ahead, the timer is to be re-armed at ``deadline``.
    mutating func timerFired(now: NIODeadline) -> Expiry? {
        guard let deadline, now >= deadline else { return nil }
        self.deadline = nil
        switch phase {
        case .idle: return .idle
        case .receivingHead: return .head
        case .receivingBody: return .body
        case .closing: return .closing
        case .busy: return nil
        }
    }
}
