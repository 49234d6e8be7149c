import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The connections to vLLM, owned as a service so they close with the server: per-loop pools, used by
/// the fast path and by the proxy's own routes that fetch from vLLM (`/v1/metrics`).
package final class UpstreamClient: Service, Sendable {
    let pools: UpstreamPools

    package init(configuration: ProxyConfiguration) {
        self.pools = UpstreamPools(
            layout: configuration.backendLayout,
            connectTimeout: .nanoseconds(configuration.connectTimeout.nanoseconds),
            maxIdle: configuration.upstreamPoolSize,
            group: .singleton,
            probe: (
                interval: .nanoseconds(configuration.backendProbeInterval.nanoseconds),
                timeout: .nanoseconds(configuration.backendProbeTimeout.nanoseconds)
            )
        )
    }

    package func run() async throws {
        // With several backends, their /health probes run as long as the server does.
        pools.startProbing()
        try? await gracefulShutdown()
        await pools.shutdown()
    }
}

extension Duration {
    /// Whole nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
