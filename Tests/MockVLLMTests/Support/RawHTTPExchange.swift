import NIOCore
import NIOPosix

/// One HTTP/1.1 exchange over a bare TCP connection, keeping every byte and every read as it arrived.
///
/// HTTP clients hide exactly what these tests look at (chunk framing, a missing terminating chunk, the
/// moment of EOF), so the tests read the socket themselves.
struct RawHTTPExchange {
    /// Everything read, head included.
    var received: [UInt8] = []
    /// The size of each read, in order.
    var readSizes: [Int] = []
    /// True when the server closed the connection (EOF or reset); false when the client stopped reading.
    var serverClosed = false
    /// The read error that ended the exchange (a reset), if any.
    var closeError: String?

    /// The response head (status line and headers), without the blank line.
    var head: String {
        guard let end = self.headEnd else { return String(decoding: self.received, as: UTF8.self) }
        return String(decoding: self.received[..<end], as: UTF8.self)
    }

    /// The bytes after the head's blank line, still chunk-encoded if the response is chunked.
    var rawBody: [UInt8] {
        guard let end = self.headEnd else { return [] }
        return Array(self.received[(end + 4)...])
    }

    private var headEnd: Int? {
        let marker = Array("\r\n\r\n".utf8)
        guard self.received.count >= marker.count else { return nil }
        return (0...(self.received.count - marker.count)).first { self.received[$0..<($0 + marker.count)].elementsEqual(marker) }
    }

    /// Sends a POST with `body` and reads until the server closes or `stopWhen` says so.
    ///
    /// The request carries `Connection: close` so a complete response ends in EOF as well.
    static func post(
        port: Int,
        path: String = "/v1/chat/completions",
        body: String,
        keepAlive: Bool = false,
        timeout: Duration = .seconds(20),
        stopWhen: @escaping @Sendable (RawHTTPExchange) -> Bool = { _ in false }
    ) async throws -> RawHTTPExchange {
        var request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        if !keepAlive { request += "Connection: close\r\n" }
        request += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        return try await self.exchange(port: port, request: Array(request.utf8), timeout: timeout, stopWhen: stopWhen)
    }

    /// Sends `request` and reads until the server closes, `stopWhen` holds, or `timeout` passes (throws).
    static func exchange(
        port: Int,
        request: [UInt8],
        timeout: Duration,
        stopWhen: @escaping @Sendable (RawHTTPExchange) -> Bool
    ) async throws -> RawHTTPExchange {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withThrowingTaskGroup(of: RawHTTPExchange?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: request))
                    var exchange = RawHTTPExchange()
                    do {
                        for try await buffer in inbound {
                            exchange.received += buffer.readableBytesView
                            exchange.readSizes.append(buffer.readableBytes)
                            if stopWhen(exchange) { return exchange }
                        }
                    } catch {
                        // A reset is the server closing too, just less politely.
                        exchange.closeError = String(describing: error)
                    }
                    exchange.serverClosed = true
                    return exchange
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let exchange = first else {
                channel.channel.close(promise: nil)
                throw RawHTTPTimeout()
            }
            return exchange
        }
    }
}

/// The server neither finished nor closed within the test's bound.
struct RawHTTPTimeout: Error {}
