import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// The HTTP side of the explicit online steps (`--fetch-collateral`, `--nras`).
enum OnlineHTTPClient {
    /// Why an online request gave no usable answer.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let maxBody = 4 << 20

    /// A process-lifetime client, never shut down (like `HTTPClient.shared`), that reports a refused
    /// connection at once instead of retrying until the request deadline.
    static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Sends `request` and returns the headers and body of a 200 answer; `what` names it in failures.
    static func send(
        _ request: HTTPClientRequest, what: String, timeout: TimeAmount, client: HTTPClient = shared
    ) async throws(Failure) -> (headers: HTTPHeaders, body: [UInt8]) {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: maxBody)
        } catch {
            throw Failure(description: "\(what) failed: \(error)")
        }
        guard response.status == .ok else {
            let excerpt = String(decoding: body.readableBytesView.prefix(200), as: UTF8.self)
            throw Failure(description: "\(what) answered \(response.status.code)\(excerpt.isEmpty ? "" : ": \(excerpt)")")
        }
        return (response.headers, Array(body.readableBytesView))
    }
}
