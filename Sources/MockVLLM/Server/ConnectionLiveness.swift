import Synchronization

/// Whether the client side of one connection is still there, as seen by ``ConnectionWatcher``.
///
/// Written on the connection's event loop, read by the task pacing a stream, so a paced stream notices a
/// client that left during a pause instead of only at its next write.
final class ConnectionLiveness: Sendable {
    private let closed = Atomic<Bool>(false)

    init() {}

    /// True once the client closed its sending side or the connection closed.
    var isClosed: Bool {
        self.closed.load(ordering: .acquiring)
    }

    func markClosed() {
        self.closed.store(true, ordering: .releasing)
    }
}
