#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Cuts a stream's bytes at `\n`, the one line splitter of the SSE scanners: each feed reports the
/// pieces of lines it holds (never empty, never with the `\n`) and every line end, with `memchr`,
/// without copying or allocating. A line may span feeds; the scanner keeps what it needs of it.
enum LineSplitter {
    enum Piece {
        /// Bytes of the current line.
        case part(UnsafeRawBufferPointer)
        /// The current line ended.
        case end
    }

    @inline(__always)
    static func split(_ bytes: UnsafeRawBufferPointer, _ body: (Piece) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            let remaining = bytes.count - start
            guard let found = memchr(base + start, 0x0A, remaining) else {
                body(.part(UnsafeRawBufferPointer(start: base + start, count: remaining)))
                return
            }
            let newline = base.distance(to: UnsafeRawPointer(found))
            if newline > start { body(.part(UnsafeRawBufferPointer(start: base + start, count: newline - start))) }
            body(.end)
            start = newline + 1
        }
    }
}
