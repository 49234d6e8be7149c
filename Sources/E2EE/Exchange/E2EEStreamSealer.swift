/// Seals a streamed (SSE) answer line by line: each `data:` line's JSON event has its fields sealed as a whole
/// answer's would be (with `delta` for `message`); every other line passes byte for byte.
///
/// Lines end at LF (a CR before it is kept after the sealed JSON). Only the current partial line is held.
package struct E2EEStreamSealer: Sendable {
    private let sealer: E2EEAnswerSealer
    private var partial: [UInt8] = []

    init(_ sealer: E2EEAnswerSealer) {
        self.sealer = sealer
    }

    /// How many bytes of an unfinished line are held (for a caller that bounds one line's length).
    package var heldCount: Int { self.partial.count }

    /// Upstream SSE bytes in (any split, even byte by byte); out: the bytes of every COMPLETE line, with each
    /// `data:` JSON event's fields sealed and every other line (comments, `event:`, blank lines, `data: [DONE]`,
    /// events without sealed fields such as errors: byte for byte) as received. A partial line is held until its
    /// end arrives. A `data:` line that is not JSON is `unsealableAnswer`: the stream must stop there.
    package mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(E2EEError) -> [UInt8] {
        var output: [UInt8] = []
        var start = 0
        while let newline = bytes[start...].firstIndex(of: 0x0A) {
            if self.partial.isEmpty {
                try self.emit(Array(bytes[start...newline]), into: &output)
            } else {
                self.partial.append(contentsOf: bytes[start...newline])
                let line = self.partial
                self.partial.removeAll(keepingCapacity: true)
                try self.emit(line, into: &output)
            }
            start = newline + 1
        }
        if start < bytes.count { self.partial.append(contentsOf: bytes[start...]) }
        return output
    }

    /// The held partial line, if the stream ends without a final newline: passed through unsealed when it is not
    /// a `data:` line with a JSON event (a blank, `[DONE]` or comment line), else `unsealableAnswer`.
    package mutating func finish() throws(E2EEError) -> [UInt8] {
        defer { self.partial.removeAll() }
        if let payload = Self.eventPayload(self.partial[...]), !Self.isPlain(payload) {
            throw .unsealableAnswer(self.sealer.family)
        }
        return self.partial
    }

    private func emit(_ line: [UInt8], into output: inout [UInt8]) throws(E2EEError) {
        var end = line.count - 1
        if end > 0, line[end - 1] == 0x0D { end -= 1 }
        guard let payload = Self.eventPayload(line[..<end]), !Self.isPlain(payload) else {
            output.append(contentsOf: line)
            return
        }
        let sealed = try self.sealer.seal(Array(payload), streamed: true)
        output.append(contentsOf: line[..<payload.startIndex])
        output.append(contentsOf: sealed)
        output.append(contentsOf: line[payload.endIndex...])
    }

    /// What follows `data:` (and its one optional space), or nil for another line.
    private static func eventPayload(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard line.starts(with: "data:".utf8) else { return nil }
        var start = line.startIndex + 5
        if start < line.endIndex, line[start] == 0x20 { start += 1 }
        return line[start...]
    }

    /// A payload with nothing to seal: blank, or `[DONE]` (whitespace around it allowed, as NEAR trims).
    private static func isPlain(_ payload: ArraySlice<UInt8>) -> Bool {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D }
        guard let first = payload.firstIndex(where: { !isSpace($0) }) else { return true }
        let last = payload.lastIndex(where: { !isSpace($0) })!
        return payload[first...last].elementsEqual("[DONE]".utf8)
    }
}
