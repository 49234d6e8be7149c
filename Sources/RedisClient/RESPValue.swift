import NIOCore

/// One RESP2 value: a Redis reply, or (arrays of bulk strings) a command.
///
/// RESP2 has a single null, sent either as a bulk string (`$-1`) or as an array (`*-1`); both decode to `.null`
/// because no Redis command gives the two a different meaning.
package enum RESPValue: Sendable, Hashable {
    /// `+OK`: a short status line (no CR or LF inside).
    case simpleString(String)
    /// `-ERR …`: an error reply; the first word is its kind (`ERR`, `WRONGPASS`, `NOAUTH`, …).
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$3\r\nabc`: binary-safe bytes.
    case bulkString(ByteBuffer)
    /// `*2\r\n…`: possibly nested.
    case array([RESPValue])
    /// `$-1` or `*-1`.
    case null

    /// The bytes of a bulk or simple string as UTF-8 text (invalid sequences replaced), nil for other values.
    package var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes): return String(buffer: bytes)
        case .error, .integer, .array, .null: return nil
        }
    }
}

extension RESPValue: CustomStringConvertible {
    package var description: String {
        switch self {
        case .simpleString(let text): return "+\(text)"
        case .error(let message): return "-\(message)"
        case .integer(let value): return ":\(value)"
        case .bulkString(let bytes): return "$\(bytes.readableBytes) bytes"
        case .array(let values): return "[\(values.map(\.description).joined(separator: ", "))]"
        case .null: return "null"
        }
    }
}
