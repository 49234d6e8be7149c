import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore

/// vLLM's metrics text for `/v1/metrics` (the models list is relayed on the fast path).
struct PassThroughRoute: Sendable {
    let configuration: ProxyConfiguration
    let client: HTTPClient

    /// vLLM's status and body bytes for `path` (docs/API.md, Routes).
    func fetch(_ path: String, logger: Logger) async throws -> (status: Int, body: ByteBuffer, contentType: String?) {
        var request = HTTPClientRequest(url: configuration.upstreamBase + path)
        request.method = .GET
        request.headers = ["Accept": "application/json"]
        do {
            let response = try await client.execute(
                request,
                deadline: .now() + .nanoseconds(configuration.upstreamTimeout.nanoseconds),
                logger: logger
            )
            let body = try await response.body.collect(upTo: configuration.maxUpstreamResponseSize)
            return (Int(response.status.code), body, response.headers.first(name: "content-type"))
        } catch {
            logger.warning("upstream request failed", metadata: ["error": "\(error)"])
            throw OpenAIError.upstreamFailure(error)
        }
    }
}
