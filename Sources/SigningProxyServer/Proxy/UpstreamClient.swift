import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The connections to vLLM, owned as a service so they close with the server: per-loop pools for the
/// fast path, and an HTTP client for the occasional slow-path request (`/v1/metrics`).
package final class UpstreamClient: Service, Sendable {
    package let http: HTTPClient
    let pools: UpstreamPools

    package init(configuration: ProxyConfiguration) {
        var http = HTTPClient.Configuration()
        // vLLM serves hundreds of concurrent streams; AHC's default is 8 connections per host.
        http.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.upstreamPoolSize
        )
        // An idle-read timeout, not a total deadline: it bounds the wait for headers and every gap
        // between chunks, never a long generation (docs/API.md, Completions).
        http.timeout = .init(
            connect: .nanoseconds(Int64(configuration.connectTimeout.nanoseconds)),
            read: .nanoseconds(Int64(configuration.upstreamTimeout.nanoseconds))
        )
        http.redirectConfiguration = .disallow
        http.decompression = .disabled
        http.httpVersion = .http1Only
        self.http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: http)
        self.pools = UpstreamPools(
            baseURL: configuration.upstreamBase,
            connectTimeout: .nanoseconds(configuration.connectTimeout.nanoseconds),
            maxIdle: configuration.upstreamPoolSize,
            group: .singleton
        )
    }

    package func run() async throws {
        try? await gracefulShutdown()
        await pools.shutdown()
        try await http.shutdown()
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
