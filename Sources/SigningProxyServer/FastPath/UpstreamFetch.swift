import NIOCore
import NIOHTTP1

/// One bodiless GET to vLLM on the fast path's pooled connections, for the proxy's own routes that show
/// something of vLLM's (`/v1/metrics`): the same framing, timeouts and pools as every proxied request, so
/// the server needs no second HTTP client.
final class UpstreamFetch: UpstreamConnectionDelegate {
    struct Answer: Sendable {
        var status: Int
        var body: ByteBuffer
    }

    private let pool: UpstreamPool
    private let connection: UpstreamConnection
    private let promise: EventLoopPromise<Answer>
    private let limit: Int
    private var status = 0
    private var keepAlive = false
    private var body = ByteBuffer()
    private var finished = false

    private init(pool: UpstreamPool, connection: UpstreamConnection, promise: EventLoopPromise<Answer>, limit: Int) {
        self.pool = pool
        self.connection = connection
        self.promise = promise
        self.limit = limit
    }

    /// GETs `path` below `VLLM_BASE_URL`'s path.
    /// - Parameters:
    ///   - idleLimit: the wait for headers and every gap between chunks.
    ///   - limit: the largest body taken; a larger one fails the fetch.
    static func get(_ path: String, pools: UpstreamPools, on eventLoop: any EventLoop, idleLimit: TimeAmount, limit: Int) -> EventLoopFuture<Answer> {
        let promise = eventLoop.makePromise(of: Answer.self)
        let target = pools.target
        eventLoop.execute {
            let pool = pools.pool(for: eventLoop)
            pool.acquire { result in
                switch result {
                case .failure(let error):
                    promise.fail(error)
                case .success(let (connection, _)):
                    let fetch = UpstreamFetch(pool: pool, connection: connection, promise: promise, limit: limit)
                    connection.delegate = fetch
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: target?.hostHeader ?? "")
                    headers.add(name: "Accept", value: "text/plain, application/json")
                    connection.send(
                        HTTPRequestHead(version: .http1_1, method: .GET, uri: (target?.basePath ?? "") + path, headers: headers),
                        body: nil, idleLimit: idleLimit)
                }
            }
        }
        return promise.futureResult
    }

    func upstreamReceived(_ part: HTTPClientResponsePart) {
        switch part {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
        case .body(var buffer):
            guard body.readableBytes + buffer.readableBytes <= limit else {
                fail(UpstreamProtocolError.oversizedAnswer)
                return
            }
            body.writeBuffer(&buffer)
        case .end:
            guard !finished else { return }
            finished = true
            pool.release(connection, reusable: keepAlive)
            promise.succeed(Answer(status: status, body: body))
        }
    }

    func upstreamReadComplete() {}

    func upstreamClosed(error: (any Error)?) {
        guard !finished else { return }
        finished = true
        promise.fail(error ?? UpstreamProtocolError.closedEarly)
    }

    func upstreamTimedOut() {
        fail(UpstreamProtocolError.timedOut)
    }

    private func fail(_ error: UpstreamProtocolError) {
        guard !finished else { return }
        finished = true
        pool.release(connection, reusable: false)
        promise.fail(error)
    }
}
