import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import SigningCore

/// Writes one upstream SSE body to the client as it arrives, and signs it only after a clean end.
struct StreamForwarder: Sendable {
    let proxy: CompletionProxy
    let upstream: HTTPClientResponse
    let requestHash: String
    let logger: Logger
    /// The client's connection, used to let its event loop catch up (see ``catchUpInterval``).
    let channel: (any Channel)?

    /// Bytes written between two waits for the client's event loop.
    ///
    /// Writes are handed to the event loop asynchronously, so the writer's view of the channel's
    /// writability lags; a fast upstream and a slow client then queue far more than the channel's
    /// high watermark. Waiting for the loop every so often keeps backpressure, and memory, bounded.
    static let catchUpInterval = 256 << 10

    /// Any error thrown here leaves the client response without its terminating chunk, so the client
    /// sees a truncated body, and nothing is stored.
    func run(writer: inout any ResponseBodyWriter) async throws {
        var exchange = StreamingExchange()
        var sinceCatchUp = 0
        do {
            for try await chunk in upstream.body {
                if case .forward(let buffer) = exchange.consume(chunk) {
                    try await writeToClient(buffer, writer: &writer)
                    sinceCatchUp += buffer.readableBytes
                    if sinceCatchUp >= Self.catchUpInterval, let channel {
                        sinceCatchUp = 0
                        try await channel.eventLoop.submit {}.get()
                    }
                }
            }
        } catch let error as ClientGone {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch where Task.isCancelled {
            // Cancelled because the client left; the upstream error is only the echo of that.
            throw CancellationError()
        } catch {
            proxy.metrics.increment(.upstreamCutMidStream)
            logger.warning("upstream failed mid-stream; response truncated", metadata: ["error": "\(error)"])
            throw error
        }

        // A client that left while the last chunk was in flight gets nothing signed.
        if Task.isCancelled { throw CancellationError() }
        if exchange.sawDone, let chatID = exchange.chatID {
            proxy.sign(chatID: chatID, requestHash: requestHash, responseHash: exchange.responseHash, logger: logger)
        } else {
            proxy.metrics.increment(.signaturesUnsigned)
            if exchange.sawDone {
                logger.warning("stream has no chat id; left unsigned")
            } else {
                logger.warning("upstream ended without data: [DONE]; left unsigned")
            }
        }
        for buffer in exchange.takeHeld() {
            try await writeToClient(buffer, writer: &writer)
        }
        try await writer.finish(nil)
    }

    private func writeToClient(_ buffer: ByteBuffer, writer: inout any ResponseBodyWriter) async throws {
        do {
            try await writer.write(buffer)
        } catch {
            proxy.metrics.increment(.clientDisconnects)
            logger.info("client write failed; abandoning stream")
            throw ClientGone()
        }
    }

    struct ClientGone: Error {}
}
