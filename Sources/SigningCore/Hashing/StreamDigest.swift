import Crypto
import NIOCore
import SigningCrypto

/// Incremental SHA-256 over the exact bytes of a request or response body.
///
/// It reads each `ByteBuffer` in place, so hashing a forwarded chunk costs no copy.
package struct StreamDigest: Sendable {
    private var hasher = SHA256()
    /// Bytes hashed so far.
    package private(set) var byteCount = 0

    package init() {}

    package mutating func update(_ buffer: ByteBuffer) {
        byteCount += buffer.readableBytes
        buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
    }

    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        byteCount += bytes.count
        hasher.update(bufferPointer: bytes)
    }

    /// Lowercase hex of the digest, the form the signed text uses.
    package func finalizeHex() -> String {
        Hex.encode(hasher.finalize())
    }

    /// Lowercase hex SHA-256 of one buffer.
    package static func hex(of buffer: ByteBuffer) -> String {
        var digest = StreamDigest()
        digest.update(buffer)
        return digest.finalizeHex()
    }
}
