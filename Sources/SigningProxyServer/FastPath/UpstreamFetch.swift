import NIOCore
import NIOHTTP1

/// One bodiless GET to vLLM on the fast path's pooled connections, for the proxy's own routes that show
/// something of vLLM's (`/v1/metrics`): the same framing, timeouts and pools as every proxied request, so
/// the server needs no second HTTP client. Also the backends' `/health` probes, on connections of their own.
final class UpstreamFetch: UpstreamConnectionDelegate {
    struct Answer: Sendable {
        var status: Int
        var body: ByteBuffer
    }

    /// nil for a probe's connection, which is closed after its answer.
    private let pool: UpstreamPool?
    private let connection: UpstreamConnection
    private let promise: EventLoopPromise<Answer>
    private let limit: Int
    private var status = 0
    private var keepAlive = false
    private var body = ByteBuffer()
    private var finished = false

    private init(pool: UpstreamPool?, connection: UpstreamConnection, promise: EventLoopPromise<Answer>, limit: Int) {
        self.pool = pool
        self.connection = connection
        self.promise = promise
        self.limit = limit
    }

    /// GETs `path` below the base URL's path, from a backend of the default pool or of `group`.
    /// - Parameters:
    ///   - idleLimit: the wait for headers and every gap between chunks.
    ///   - limit: the largest body taken; a larger one fails the fetch.
    static func get(
        _ path: String, pools: UpstreamPools, group: BackendGroup? = nil, on eventLoop: any EventLoop, idleLimit: TimeAmount, limit: Int
    ) -> EventLoopFuture<Answer> {
        let promise = eventLoop.makePromise(of: Answer.self)
        let target = pools.target
        eventLoop.execute {
            let pool = pools.pool(for: eventLoop)
            pool.acquire(group: group) { result in
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

    /// GETs `{base}/health` from `backend` on a new connection of its own, within `timeout` in all.
    static func probe(_ backend: UpstreamBackend, pool: UpstreamPool, timeout: TimeAmount) -> EventLoopFuture<Answer> {
        let eventLoop = pool.eventLoop
        let promise = eventLoop.makePromise(of: Answer.self)
        guard let target = backend.target else {
            promise.fail(UpstreamSetupError.invalidBaseURL)
            return promise.futureResult
        }
        pool.probeConnection(to: backend, timeout: timeout) { result in
            switch result {
            case .failure(let error):
                promise.fail(error)
            case .success(let connection):
                let fetch = UpstreamFetch(pool: nil, connection: connection, promise: promise, limit: 4096)
                connection.delegate = fetch
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: target.hostHeader)
                connection.send(
                    HTTPRequestHead(version: .http1_1, method: .GET, uri: target.basePath + "/health", headers: headers),
                    body: nil, idleLimit: timeout)
                // The idle limit bounds each wait; this bounds the whole answer.
                eventLoop.assumeIsolated().scheduleTask(in: timeout) { fetch.fail(UpstreamProtocolError.timedOut) }
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
            finish(reusable: keepAlive)
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
        finish(reusable: false)
        promise.fail(error)
    }

    private func finish(reusable: Bool) {
        if let pool {
            pool.release(connection, reusable: reusable)
        } else {
            connection.delegate = nil
            connection.close()
        }
    }
}
