import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One JSON line per request received, appended to a file: what reached the upstream, in order.
///
/// A harness in another process reads it to count upstream requests (a smuggled second request shows up
/// as a line of its own) and to match each completion id to the request body that produced it:
/// `{"method":"POST","path":"/v1/chat/completions","content_length":"123","transfer_encoding":null,
/// "body_bytes":123,"body_fnv1a64":"…","id":"chatcmpl-…"}`. FNV-1a keeps the mock free of a crypto
/// dependency; it identifies a body, it proves nothing. With `bodies`, a `"body"` member adds the body's
/// text (invalid UTF-8 replaced).
package final class MockVLLMRequestLog: Sendable {
    private let descriptor: Mutex<Int32>
    private let bodies: Bool

    /// Opens (creates, appends to) `path`; nil when it cannot be opened.
    package init?(path: String, bodies: Bool = false) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return nil }
        self.descriptor = Mutex(descriptor)
        self.bodies = bodies
    }

    deinit {
        self.descriptor.withLock { _ = close($0) }
    }

    /// Appends one line. `body` is what the mock read of the request body (nil when it read none);
    /// `id` the completion id it answered with.
    func record(method: String, path: String, contentLength: String?, transferEncoding: String?, body: [UInt8]?, id: String?) {
        var line = #"{"method":"# + Self.quoted(method)
        line += #","path":"# + Self.quoted(path)
        line += #","content_length":"# + (contentLength.map(Self.quoted) ?? "null")
        line += #","transfer_encoding":"# + (transferEncoding.map(Self.quoted) ?? "null")
        line += #","body_bytes":"# + (body.map { String($0.count) } ?? "null")
        line += #","body_fnv1a64":"# + (body.map { Self.quoted(Self.fnv1a64Hex($0)) } ?? "null")
        line += #","id":"# + (id.map(Self.quoted) ?? "null")
        if self.bodies {
            line += #","body":"# + (body.map { Self.quoted(String(decoding: $0, as: UTF8.self)) } ?? "null")
        }
        line += "}\n"
        let bytes = Array(line.utf8)
        self.descriptor.withLock { descriptor in
            // O_APPEND: one write per line keeps lines whole.
            _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        }
    }

    private static func quoted(_ string: String) -> String {
        String(decoding: JSONText.quoted(string), as: UTF8.self)
    }

    /// FNV-1a, 64-bit, as 16 lowercase hex digits.
    package static func fnv1a64Hex(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
