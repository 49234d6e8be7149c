import Hummingbird
import NIOCore

/// Writes a response body piece by piece with the configured pacing and faults, and records how it ended.
///
/// A piece is a stream event, a replay chunk or a whole JSON body. Unpaced, unsplit bodies go out in
/// batches (each piece still its own HTTP chunk, as vLLM sends them) to keep the write path cheap; a paced
/// or split body goes out one write per piece or fragment.
struct BodyDelivery: Sendable {
    /// Most pieces, and most bytes, handed to the channel in one batch when unpaced.
    static let batchLimit = (pieces: 64, bytes: 64 << 10)
    /// Bytes handed to the channel before the writer waits for the event loop to catch up (see `writeBatched`).
    static let catchUpInterval = 256 << 10
    /// Gap between the fragments of a split piece, so that each leaves in its own TCP segment.
    static let fragmentGap: Duration = .milliseconds(1)

    let delay: Duration
    let splitWrites: Bool
    let failAfter: Int?
    let stats: MockVLLMStats
    /// Whether the outcome is counted in the stream counters of ``MockVLLMStats``.
    let countsAsStream: Bool
    let connection: ConnectionProbe

    init(configuration: MockVLLMConfiguration, stats: MockVLLMStats, countsAsStream: Bool, channel: any Channel) {
        self.delay = configuration.delay
        self.splitWrites = configuration.splitWrites
        self.failAfter = configuration.failAfter
        self.stats = stats
        self.countsAsStream = countsAsStream
        self.connection = ConnectionProbe(channel: channel)
    }

    /// Writes every piece and ends the body, or throws to make the server drop the connection mid-body
    /// (a deliberate cut, or a client that went away).
    func deliver<Pieces: IteratorProtocol<ByteBuffer>>(
        _ pieces: Pieces,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        var pieces = pieces
        if self.countsAsStream { self.stats.recordStreamStarted() }
        do {
            if self.delay == .zero && !self.splitWrites {
                try await self.writeBatched(&pieces, to: &writer)
            } else {
                try await self.writePaced(&pieces, to: &writer)
            }
            try await writer.finish(nil)
            if self.countsAsStream { self.stats.recordStreamCompleted() }
        } catch let error as MockVLLMError where error == .deliberateCut {
            if self.countsAsStream { self.stats.recordStreamCut() }
            throw error
        } catch {
            if self.countsAsStream { self.stats.recordStreamAborted() }
            throw error
        }
    }

    private func writeBatched<Pieces: IteratorProtocol<ByteBuffer>>(
        _ pieces: inout Pieces,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        if self.failAfter == 0 { throw MockVLLMError.deliberateCut }
        var batch: [ByteBuffer] = []
        batch.reserveCapacity(Self.batchLimit.pieces)
        var batchBytes = 0
        var uncheckedBytes = 0
        var sent = 0
        while let piece = pieces.next() {
            batch.append(piece)
            batchBytes += piece.readableBytes
            sent += 1
            let cutNow = sent == self.failAfter
            if cutNow || batch.count >= Self.batchLimit.pieces || batchBytes >= Self.batchLimit.bytes {
                try await writer.write(contentsOf: batch)
                batch.removeAll(keepingCapacity: true)
                uncheckedBytes += batchBytes
                batchBytes = 0
                // The channel only reports itself unwritable once the event loop has run the queued writes;
                // a producer faster than the loop would otherwise pile a whole long stream up in its queue.
                if uncheckedBytes >= Self.catchUpInterval {
                    try await self.connection.catchUp()
                    uncheckedBytes = 0
                }
            }
            if cutNow { throw MockVLLMError.deliberateCut }
        }
        if !batch.isEmpty {
            try await writer.write(contentsOf: batch)
        }
    }

    private func writePaced<Pieces: IteratorProtocol<ByteBuffer>>(
        _ pieces: inout Pieces,
        to writer: inout any ResponseBodyWriter
    ) async throws {
        if self.failAfter == 0 { throw MockVLLMError.deliberateCut }
        let liveness = self.delay > .zero ? await self.connection.liveness() : nil
        var sent = 0
        while let piece = pieces.next() {
            if sent > 0, self.delay > .zero {
                try await self.connection.pause(for: self.delay, liveness: liveness)
            }
            if self.splitWrites {
                for (index, fragment) in WriteSplitter.fragments(of: piece).enumerated() {
                    if index > 0 { try await Task.sleep(for: Self.fragmentGap) }
                    try await writer.write(fragment)
                }
            } else {
                try await writer.write(piece)
            }
            sent += 1
            if sent == self.failAfter { throw MockVLLMError.deliberateCut }
        }
    }
}
