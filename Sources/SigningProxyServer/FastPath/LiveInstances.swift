import Synchronization

/// Counts one server's per-connection objects alive right now, so a test can prove that none outlives
/// its connection (a leak of one per connection is invisible in any single request).
package final class LiveInstances: Sendable {
    /// ``FastPathRouter``s: one per client connection.
    package let routers = Atomic<Int>(0)
    /// ``ProxyExchange``s: one per fast-path request.
    package let exchanges = Atomic<Int>(0)
    /// ``UpstreamConnection``s: one per upstream connection.
    package let upstreamConnections = Atomic<Int>(0)

    package init() {}
}
