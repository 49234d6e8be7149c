import Logging
import NIOCore
import NIOPosix

/// vLLM's metrics text for `/v1/metrics` (the models list is relayed on the fast path), fetched on the
/// fast path's pooled upstream connections.
struct PassThroughRoute: Sendable {
    let configuration: ProxyConfiguration
    let pools: UpstreamPools

    /// vLLM's status and body bytes for `path` (docs/API.md, Routes).
    func fetch(_ path: String, logger: Logger) async throws -> (status: Int, body: ByteBuffer) {
        do {
            let answer = try await UpstreamFetch.get(
                path, pools: pools, on: MultiThreadedEventLoopGroup.singleton.next(),
                idleLimit: .nanoseconds(configuration.upstreamTimeout.nanoseconds), limit: configuration.maxUpstreamResponseSize
            ).get()
            return (answer.status, answer.body)
        } catch {
            logger.warning("upstream request failed", metadata: ["error": "\(error)"])
            throw OpenAIError.upstreamFailure(error)
        }
    }
}
