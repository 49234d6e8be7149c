import Crypto
import NIOCore
import SigningCore
import SigningCrypto

/// `sse`: `ChatIDScanner` and `StreamingExchange` over an upstream body cut at points the input chooses.
///
/// Input: one control byte (bits 0–2: how many cut points follow; bits 3–7: when not 0, a second
/// scanner runs with a short line limit, `(value - 1) * 8 + 3` bytes), then two bytes per cut point
/// (little-endian, taken modulo the body length + 1; empty chunks allowed), then the body.
///
/// Checks:
/// - The scanner's id and `[DONE]` equal ``SSEReference`` for the whole body in one chunk, at the cut
///   points, and one byte at a time; each event is reported once, in the chunk holding the `\n` that
///   completes its line; the held line never exceeds the limit, and nothing is held once the id is known.
/// - The exchange forwards every chunk unchanged before the one that completes `data: [DONE]`, holds that
///   one and all after it, and hands back exactly the held chunks: forwarded + held = the body. Its byte
///   count and SHA-256 are those of the whole body; its id is the reference's for the body up to the
///   end of the chunk that completed `[DONE]` (it stops scanning there).
enum SSETarget {
    static let target = FuzzTarget(
        name: "sse",
        summary: "ChatIDScanner and StreamingExchange: any split agrees with a line-by-line model; bytes kept exact"
    ) { run($0) }

    static func run(_ input: UnsafeRawBufferPointer) {
        var reader = FuzzInput(input)
        let control = reader.byte()
        let cutOffsets = (0..<Int(control & 7)).map { _ in Int(reader.uint16()) }
        let body = Array(reader.rest)
        let cuts = cutOffsets.map { $0 % (body.count + 1) }.sorted()

        var chunks: [Range<Int>] = []
        var start = 0
        for cut in cuts {
            chunks.append(start..<cut)
            start = cut
        }
        chunks.append(start..<body.count)

        let defaultLimit = 1 << 20
        let expected = SSEReference(body, maxLineLength: defaultLimit)
        scan(body, chunks: [0..<body.count], maxLineLength: defaultLimit, expected: expected, label: "one chunk")
        scan(body, chunks: chunks, maxLineLength: defaultLimit, expected: expected, label: "cut at \(cuts)")
        scan(body, chunks: body.indices.map { $0..<($0 + 1) }, maxLineLength: defaultLimit, expected: expected, label: "byte at a time")
        if control >> 3 != 0 {
            let limit = (Int(control >> 3) - 1) * 8 + 3
            let limited = SSEReference(body, maxLineLength: limit)
            scan(body, chunks: chunks, maxLineLength: limit, expected: limited, label: "limit \(limit), cut at \(cuts)")
        }
        exchange(body, chunks: chunks, expected: expected)
    }

    /// Index of the chunk holding byte `offset` (empty chunks hold nothing).
    private static func chunk(holding offset: Int?, in chunks: [Range<Int>]) -> Int? {
        guard let offset else { return nil }
        return chunks.firstIndex { $0.contains(offset) }
    }

    private static func scan(_ body: [UInt8], chunks: [Range<Int>], maxLineLength: Int, expected: SSEReference, label: String) {
        var scanner = ChatIDScanner(maxLineLength: maxLineLength)
        var idChunk: Int?
        var doneChunk: Int?
        for (index, range) in chunks.enumerated() {
            let events = body[range].withUnsafeBytes { scanner.feed($0) }
            if events.contains(.foundChatID) {
                Invariant.require(idChunk == nil, "\(label): id reported twice")
                idChunk = index
            }
            if events.contains(.foundDone) {
                Invariant.require(doneChunk == nil, "\(label): [DONE] reported twice")
                doneChunk = index
            }
            Invariant.require(scanner.bufferedByteCount <= maxLineLength, "\(label): \(scanner.bufferedByteCount) bytes held, limit \(maxLineLength)")
            Invariant.require(scanner.chatID == nil || scanner.bufferedByteCount == 0, "\(label): bytes held after the id was found")
        }
        Invariant.require(scanner.chatID.map { Array($0.utf8) } == expected.chatID, "\(label): id \(String(describing: scanner.chatID)), reference \(String(describing: expected.chatID))")
        Invariant.require(scanner.sawDone == (expected.doneLineEnd != nil), "\(label): sawDone \(scanner.sawDone), reference disagrees")
        Invariant.require(scanner.sawError == expected.sawError, "\(label): sawError \(scanner.sawError), reference disagrees")
        Invariant.require(idChunk == chunk(holding: expected.chatIDLineEnd, in: chunks), "\(label): id reported in chunk \(String(describing: idChunk))")
        Invariant.require(doneChunk == chunk(holding: expected.doneLineEnd, in: chunks), "\(label): [DONE] reported in chunk \(String(describing: doneChunk))")
    }

    private static func exchange(_ body: [UInt8], chunks: [Range<Int>], expected: SSEReference) {
        // Slices of one buffer: reading past a slice's readable bytes would read its neighbour's.
        let whole = ByteBuffer(bytes: body)
        var exchange = StreamingExchange()
        var forwarded: [UInt8] = []
        var heldChunks: [ByteBuffer] = []
        let doneChunk = chunk(holding: expected.doneLineEnd, in: chunks)
        for (index, range) in chunks.enumerated() {
            guard let slice = whole.getSlice(at: range.lowerBound, length: range.count) else {
                Invariant.fail("slice \(range) of \(body.count) bytes")
            }
            let shouldHold = doneChunk.map { index >= $0 } ?? false
            switch exchange.consume(slice) {
            case .forward(let buffer):
                Invariant.require(!shouldHold, "chunk \(index) forwarded at or after the chunk that completed [DONE]")
                Invariant.require(buffer == slice, "chunk \(index) forwarded changed")
                forwarded += Array(buffer.readableBytesView)
            case .held:
                Invariant.require(shouldHold, "chunk \(index) held before [DONE] was complete")
                heldChunks.append(slice)
            }
        }
        let held = exchange.takeHeld()
        Invariant.require(held.count == heldChunks.count && zip(held, heldChunks).allSatisfy { $0 == $1 }, "held chunks differ from the ones consumed")
        Invariant.require(exchange.takeHeld().isEmpty, "held chunks handed out twice")
        Invariant.require(forwarded + held.flatMap { Array($0.readableBytesView) } == body, "forwarded + held is not the body")
        Invariant.require(exchange.byteCount == body.count, "byte count \(exchange.byteCount) of \(body.count)")
        Invariant.require(exchange.responseHash == Hex.encode(SHA256.hash(data: body)), "response hash is not SHA-256 of the body")
        Invariant.require(exchange.sawDone == (doneChunk != nil), "exchange sawDone \(exchange.sawDone)")
        let scanned = doneChunk.map { body[..<chunks[$0].upperBound] }.map(Array.init) ?? body
        let expectedID = SSEReference(scanned, maxLineLength: 1 << 20).chatID
        Invariant.require(exchange.chatID.map { Array($0.utf8) } == expectedID, "exchange id \(String(describing: exchange.chatID))")
    }
}
