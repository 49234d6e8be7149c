import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SigningCore

/// Forwards `/v1/chat/completions` and `/v1/completions`, hashing the exact bytes both ways and
/// signing clean exchanges (API.md §3–§6).
package struct CompletionProxy: Sendable {
    let configuration: ProxyConfiguration
    let client: HTTPClient
    let authenticator: BearerAuthenticator
    let notary: ExchangeNotary
    let metrics: ProxyMetrics

    /// Headers that ask for end-to-end encryption, which this proxy refuses rather than ignores (API.md §3.1).
    private static let e2eeHeaders: [HTTPField.Name] = [
        "X-Signing-Algo", "X-Client-Pub-Key", "X-Model-Pub-Key", "X-E2EE-Version", "X-E2EE-Nonce",
        "X-E2EE-Timestamp",
    ].compactMap { HTTPField.Name($0) }
    private static let requestHashHeader = HTTPField.Name("X-Request-Hash")!

    package func handle(_ request: Request, context: ProxyRequestContext, upstreamPath: String) async throws -> Response {
        metrics.increment(.completionRequests)
        let body: ByteBuffer
        let requestHash: String
        do {
            try authenticator.authenticate(request.headers)
            body = try await readBody(request)
            guard JSONCheck.isObject(body) else { throw OpenAIError.invalidJSON }
            if Self.e2eeHeaders.contains(where: { request.headers[$0] != nil }) { throw OpenAIError.e2eeUnsupported }
            // Every caller that passed authentication holds a TOKEN token and is privileged (API.md §2, §4.3).
            requestHash = try Self.requestHashOverride(request.headers) ?? StreamDigest.hex(of: body)
        } catch {
            metrics.increment(.rejectedRequests)
            throw error
        }

        var upstreamRequest = HTTPClientRequest(url: configuration.upstreamBase + upstreamPath)
        upstreamRequest.method = .POST
        // Nothing from the client's headers is forwarded: not its token, not X-Request-Id (which
        // would let callers choose completion ids), no hop-by-hop headers.
        upstreamRequest.headers = [
            "Content-Type": "application/json", "Accept": "application/json",
        ]
        upstreamRequest.body = .bytes(body)

        let upstream: HTTPClientResponse
        do {
            upstream = try await client.execute(
                upstreamRequest,
                deadline: .now() + .nanoseconds(configuration.upstreamTimeout.nanoseconds),
                logger: context.logger
            )
        } catch {
            throw mapUpstreamFailure(error, logger: context.logger)
        }

        guard upstream.status == .ok else {
            return try await passThroughError(upstream, logger: context.logger)
        }
        let contentType = upstream.headers.first(name: "content-type")?.lowercased() ?? ""
        if contentType.hasPrefix("text/event-stream") {
            metrics.increment(.streamingResponses)
            let connection = await context.connectionState()
            return streamingResponse(
                upstream, connection: connection, channel: context.channel, requestHash: requestHash,
                logger: context.logger)
        }
        metrics.increment(.jsonResponses)
        return try await jsonResponse(upstream, requestHash: requestHash, logger: context.logger)
    }

    // MARK: Request

    private func readBody(_ request: Request) async throws -> ByteBuffer {
        let limit = configuration.maxRequestSize
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw OpenAIError.payloadTooLarge(limit: limit)
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw OpenAIError.payloadTooLarge(limit: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw OpenAIError.payloadTooLarge(limit: limit)
        }
    }


    /// `X-Request-Hash`: exactly 64 hex characters after trimming, lowercased (API.md §4.3).
    static func requestHashOverride(_ headers: HTTPFields) throws(OpenAIError) -> String? {
        guard let raw = headers[requestHashHeader] else { return nil }
        let value = raw.trimmingWhitespace().lowercased()
        guard value.utf8.count == 64, value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { throw .invalidRequestHash }
        return value
    }

    // MARK: Upstream failures

    private func mapUpstreamFailure(_ error: any Error, logger: Logger) -> OpenAIError {
        let answer = OpenAIError.upstreamFailure(error)
        if answer == .upstreamTimeout {
            metrics.increment(.upstreamTimeouts)
            logger.warning("upstream timed out")
        } else {
            metrics.increment(.upstreamErrors)
            logger.warning("upstream unavailable", metadata: ["error": "\(error)"])
        }
        return answer
    }

    /// Non-200 answers keep their status and JSON body; nothing is signed and no upstream header is copied (API.md §3.4).
    private func passThroughError(_ upstream: HTTPClientResponse, logger: Logger) async throws -> Response {
        metrics.increment(.upstreamStatusErrors)
        let code = Int(upstream.status.code)
        let body: ByteBuffer
        do {
            body = try await upstream.body.collect(upTo: configuration.maxUpstreamResponseSize)
        } catch {
            throw mapUpstreamFailure(error, logger: logger)
        }
        guard JSONCheck.isJSON(body) else { throw OpenAIError.upstreamStatus(code) }
        return Response(
            status: .init(code: code),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: body)
        )
    }

    // MARK: Non-streaming

    private func jsonResponse(_ upstream: HTTPClientResponse, requestHash: String, logger: Logger) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await upstream.body.collect(upTo: configuration.maxUpstreamResponseSize)
        } catch {
            throw mapUpstreamFailure(error, logger: logger)
        }
        guard JSONCheck.isObject(body) else {
            metrics.increment(.upstreamErrors)
            logger.warning("upstream sent a 200 that is neither JSON nor SSE")
            throw OpenAIError.upstreamUnavailable
        }
        // Sign and store before the response is written, so an eager client never gets a 404.
        if let chatID = TopLevelIDExtractor.stringID(in: body) {
            sign(chatID: chatID, requestHash: requestHash, responseHash: StreamDigest.hex(of: body), logger: logger)
        } else {
            metrics.increment(.signaturesUnsigned)
            logger.warning("upstream response has no string id; left unsigned")
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    // MARK: Streaming

    private func streamingResponse(
        _ upstream: HTTPClientResponse,
        connection: ClientConnectionState?,
        channel: any Channel,
        requestHash: String,
        logger: Logger
    ) -> Response {
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8",
            .cacheControl: "no-cache",
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        let body = ResponseBody { [self] writer in
            let stream = StreamForwarder(
                proxy: self, upstream: upstream, requestHash: requestHash, logger: logger, channel: channel)
            guard let connection else {
                try await stream.run(writer: &writer)
                return
            }
            // Forward in a child task and watch the client's side of the connection in another: when
            // the client leaves, the forwarding task is cancelled, the upstream request with it, and
            // vLLM stops generating instead of streaming into a closed connection.
            let transfer = WriterTransfer(writer: writer)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var writer = transfer.writer
                    try await stream.run(writer: &writer)
                }
                group.addTask {
                    await connection.waitUntilClosed()
                    if !Task.isCancelled { throw ClientConnectionClosed() }
                }
                do {
                    try await group.next()
                } catch let error as ClientConnectionClosed {
                    // Counted here only: a failed write counts itself in the forwarder.
                    metrics.increment(.clientDisconnects)
                    logger.info("client went away mid-stream; upstream request cancelled")
                    throw error
                }
                group.cancelAll()
            }
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Signs and stores a clean exchange (see `ExchangeNotary.record`).
    @discardableResult
    func sign(chatID: String, requestHash: String, responseHash: String, logger: Logger) -> Bool {
        notary.record(chatID: chatID, requestHash: requestHash, responseHash: responseHash, logger: logger)
    }
}

/// The watcher saw the client close its side of the connection while a stream was in flight.
private struct ClientConnectionClosed: Error {}

/// Hands the response writer to the forwarding child task; only that task uses it while the parent waits.
private struct WriterTransfer: @unchecked Sendable {
    var writer: any ResponseBodyWriter
}
