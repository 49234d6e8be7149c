#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// 32 secret bytes held inline (no heap allocation), to be wiped with `wipe()` when done.
struct SecretBuffer: Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// Number of bytes held.
    static let count = 32

    /// A buffer of zeros.
    init() {}

    /// A buffer filled from the system's cryptographically secure generator.
    static func random() -> SecretBuffer {
        var generator = SystemRandomNumberGenerator()
        var buffer = SecretBuffer()
        buffer.words = (generator.next(), generator.next(), generator.next(), generator.next())
        return buffer
    }

    /// Calls `body` with the 32 bytes.
    func withUnsafeBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var copy = self.words
        defer { Self.wipe(&copy) }
        return try Swift.withUnsafeBytes(of: &copy) { (buffer) throws(Failure) -> Result in try body(buffer) }
    }

    /// Calls `body` with the 32 bytes, writable.
    mutating func withUnsafeMutableBytes<Result, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try Swift.withUnsafeMutableBytes(of: &self.words) { (buffer) throws(Failure) -> Result in try body(buffer) }
    }

    /// Overwrites the bytes with zeros in a way the optimizer may not remove.
    mutating func wipe() {
        Self.wipe(&self.words)
    }

    private static func wipe(_ words: inout (UInt64, UInt64, UInt64, UInt64)) {
        Swift.withUnsafeMutableBytes(of: &words) { buffer in
            guard let base = buffer.baseAddress else { return }
            #if canImport(Darwin)
            _ = memset_s(base, buffer.count, 0, buffer.count)
            #else
            explicit_bzero(base, buffer.count)
            #endif
        }
    }
}
