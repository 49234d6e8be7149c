/// A decoded `Transfer-Encoding: chunked` body, with its framing kept for inspection.
struct ChunkedBody {
    /// The entity body (chunk payloads concatenated).
    var payload: [UInt8] = []
    /// The payload size of each chunk, in order (the terminating zero-size chunk not included).
    var chunkSizes: [Int] = []
    /// Whether the terminating `0\r\n\r\n` chunk arrived.
    var isComplete = false
    /// Whether the bytes stop inside a chunk or its framing.
    var isTruncated = false

    /// Decodes `bytes`, stopping at the end of the data (a truncated body is reported, not an error).
    init(decoding bytes: [UInt8]) {
        var index = 0
        while index < bytes.count {
            guard let lineEnd = Self.crlf(in: bytes, from: index),
                let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16)
            else {
                self.isTruncated = true
                return
            }
            let dataStart = lineEnd + 2
            if size == 0 {
                self.isComplete = bytes.count >= dataStart + 2
                self.isTruncated = !self.isComplete
                return
            }
            guard dataStart + size + 2 <= bytes.count else {
                self.payload += bytes[dataStart..<min(bytes.count, dataStart + size)]
                self.isTruncated = true
                return
            }
            self.payload += bytes[dataStart..<(dataStart + size)]
            self.chunkSizes.append(size)
            index = dataStart + size + 2
        }
    }

    private static func crlf(in bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 0x0D, bytes[index + 1] == 0x0A { return index }
            index += 1
        }
        return nil
    }
}
