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

    /// Calls `body` with a pointer to the 32 bytes (of a copy that is wiped afterwards).
    func withUnsafeBytes<Result>(_ body: (UnsafePointer<UInt8>) -> Result) -> Result {
        var copy = self.words
        defer { Self.wipe(&copy) }
        return Swift.withUnsafeBytes(of: &copy) { raw in
            raw.withMemoryRebound(to: UInt8.self) { bytes in
                // A 32-byte buffer always has a base address.
                body(bytes.baseAddress.unsafelyUnwrapped)
            }
        }
    }

    /// Creates a buffer holding `bytes`, which must be exactly 32 long.
    init(copying bytes: some Collection<UInt8>) {
        precondition(bytes.count == Self.count, "SecretBuffer takes exactly 32 bytes")
        Swift.withUnsafeMutableBytes(of: &self.words) { $0.copyBytes(from: bytes) }
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
