import Foundation
import NIOCore

/// Whether a body parses as JSON, without keeping the parse: the proxy forwards the bytes, never a re-encoding.
enum JSONCheck {
    /// Any JSON document (upstream error bodies, `/v1/models`).
    static func isJSON(_ body: ByteBuffer) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) != nil
    }

    /// A JSON object (completion requests and answers, API.md §3.1).
    static func isObject(_ body: ByteBuffer) -> Bool {
        // Cheap rejection of the common non-object inputs before Foundation copies the bytes.
        guard let first = body.readableBytesView.first(where: { !isWhitespace($0) }), first == UInt8(ascii: "{")
        else { return false }
        return (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) is [String: Any]
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
