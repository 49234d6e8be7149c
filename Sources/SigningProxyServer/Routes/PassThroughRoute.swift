import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Unauthenticated GETs answered from vLLM: `/v1/models` body as is, and vLLM's metrics text.
struct PassThroughRoute: Sendable {
    let configuration: ProxyConfiguration
    let client: HTTPClient

    /// vLLM's status and body bytes for `path` (API.md §1).
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

    func models(_ request: Request, context: some RequestContext) async throws -> Response {
        let upstream = try await fetch("/v1/models", logger: context.logger)
        guard JSONCheck.isJSON(upstream.body) else {
            // A 200 that is not JSON is a broken upstream; an error page keeps its status in the envelope.
            throw upstream.status == 200 ? OpenAIError.upstreamUnavailable : OpenAIError.upstreamStatus(upstream.status)
        }
        return Response(
            status: .init(code: upstream.status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: upstream.body)
        )
    }
}
