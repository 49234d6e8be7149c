import NIOCore

/// Opens upstream connections some other way than TCP: an in-memory channel for tests and the fast
/// path's fuzz harness, which feed upstream bytes without sockets. Production uses `ClientBootstrap`.
struct UpstreamConnector: Sendable {
    /// Adds the pool's handlers (TLS, HTTP client codec, ``UpstreamConnection``) to a new channel.
    typealias Initializer = @Sendable (any Channel) throws -> Void

    /// Opens a channel on the loop, runs the initializer on it, and completes once it is connected.
    let connect: @Sendable (_ eventLoop: any EventLoop, _ initialize: @escaping Initializer) -> EventLoopFuture<any Channel>
}
