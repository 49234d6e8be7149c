import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The recorded vLLM stream (`Fixtures/vllm/chat-stream.body`), cut the way vLLM writes it:
/// one HTTP chunk per SSE event.
///
/// This file is the benchmarks' own (the rest of this module links to the main package's sources).
package struct RecordedStream: Sendable {
    /// Every byte of the recorded body.
    package let bytes: [UInt8]
    /// One buffer per SSE event (`data: ...\n\n`), in order; their concatenation is `bytes`.
    package let events: [ByteBuffer]

    /// Loads the fixture; the benchmarks cannot run without it, so a missing file stops the process.
    package static func load(filePath: String = #filePath) -> RecordedStream {
        RecordedStream(bytes: fixture("chat-stream.body", filePath: filePath))
    }

    /// The bytes of `Fixtures/vllm/<name>`; a missing file stops the process.
    package static func fixture(_ name: String, filePath: String = #filePath) -> [UInt8] {
        guard let path = fixturePath(name, from: filePath), let bytes = readFile(path) else {
            fatalError("Fixtures/vllm/\(name) not found above \(filePath)")
        }
        return bytes
    }

    /// Splits `bytes` after every blank line (`\n\n`).
    package init(bytes: [UInt8]) {
        self.bytes = bytes
        var events: [ByteBuffer] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") && bytes[index + 1] == UInt8(ascii: "\n") {
                events.append(ByteBuffer(bytes: bytes[start..<(index + 2)]))
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        if start < bytes.count { events.append(ByteBuffer(bytes: bytes[start...])) }
        self.events = events
    }

    /// A longer stream of the same shape: the first event (which carries the id), the middle events
    /// repeated until there are at least `eventCount` events, then the last two (finish and `[DONE]`).
    package func lengthened(to eventCount: Int) -> [ByteBuffer] {
        guard events.count > 3 else { return events }
        let middle = Array(events[1..<(events.count - 2)])
        var result = [events[0]]
        var next = 0
        while result.count < eventCount - 2 {
            result.append(middle[next % middle.count])
            next += 1
        }
        result.append(contentsOf: events[(events.count - 2)...])
        return result
    }

    /// The first `Fixtures/vllm/<name>` found in an ancestor of `filePath`.
    private static func fixturePath(_ name: String, from filePath: String) -> String? {
        var directory = filePath
        while let slash = directory.lastIndex(of: "/"), slash != directory.startIndex {
            directory = String(directory[..<slash])
            let candidate = directory + "/Fixtures/vllm/" + name
            if access(candidate, R_OK) == 0 { return candidate }
        }
        return nil
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes
    }
}
