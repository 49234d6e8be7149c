import NIOCore

/// Exact response bytes for the mock to send to every completion request, written in chosen pieces.
///
/// Used to check byte-exact pass-through of recorded vLLM bodies (`Fixtures/vllm/*.body`): the body
/// is written as one write per piece, each piece starting at a boundary, so a test can place splits inside
/// `data: `, inside a multi-byte UTF-8 sequence, or between two events. An `text/event-stream` body goes out
/// chunked (one HTTP chunk per piece); any other with `content-length`.
package struct MockVLLMReplay: Sendable {
    /// The body, sent unchanged.
    package var body: ByteBuffer
    /// The `content-type` header.
    package var contentType: String
    /// The response status.
    package var status: Int
    /// Byte offsets where a new write starts; out-of-range, zero and repeated offsets are ignored.
    package var chunkBoundaries: [Int]

    package init(
        body: some Sequence<UInt8>,
        contentType: String = "text/event-stream; charset=utf-8",
        status: Int = 200,
        chunkBoundaries: [Int] = []
    ) {
        self.body = ByteBuffer(bytes: body)
        self.contentType = contentType
        self.status = status
        self.chunkBoundaries = chunkBoundaries
    }

    /// Whether the body goes out with chunked transfer encoding (an event stream) or `content-length`.
    var isEventStream: Bool {
        self.contentType.lowercased().hasPrefix("text/event-stream")
    }

    /// The body cut at the boundaries, in order; their concatenation is `body`.
    var pieces: [ByteBuffer] {
        let length = self.body.readableBytes
        let cuts = Set(self.chunkBoundaries.filter { $0 > 0 && $0 < length }).sorted()
        var pieces: [ByteBuffer] = []
        var start = 0
        for end in cuts + [length] where end > start {
            if let slice = self.body.getSlice(at: self.body.readerIndex + start, length: end - start) {
                pieces.append(slice)
            }
            start = end
        }
        return pieces
    }
}
