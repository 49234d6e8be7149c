/// Why bytes from a Redis server are not a RESP2 reply this client accepts.
///
/// After any of these the connection is out of step with the server (the next reply's start is unknown), so the
/// connection that saw it fails its pending commands and closes.
package struct RESPParseError: Error, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case invalidTypeByte(UInt8)
        case missingCRLF
        case invalidInteger
        case invalidLength
        case bulkTooLong(Int64)
        case arrayTooLong(Int64)
        case nestingTooDeep
        case lineTooLong
        case replyTooLarge
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// The first byte of a value is none of `+ - : $ *`.
    static func invalidTypeByte(_ byte: UInt8) -> Self { .init(.invalidTypeByte(byte)) }
    /// A line or a bulk string does not end with CR LF (a bare CR or LF, or other bytes where CR LF belongs).
    static let missingCRLF = Self(.missingCRLF)
    /// An integer reply is not an optional `-` and 1 to 19 digits that fit in 64 bits.
    static let invalidInteger = Self(.invalidInteger)
    /// A bulk or array length is not digits, or is negative other than the null `-1`.
    static let invalidLength = Self(.invalidLength)
    /// A bulk string is longer than the parser's limit.
    static func bulkTooLong(_ length: Int64) -> Self { .init(.bulkTooLong(length)) }
    /// An array has more elements than the parser's limit.
    static func arrayTooLong(_ count: Int64) -> Self { .init(.arrayTooLong(count)) }
    /// Arrays are nested deeper than the parser's limit.
    static let nestingTooDeep = Self(.nestingTooDeep)
    /// A line (type byte to CR LF) is longer than the parser's limit.
    static let lineTooLong = Self(.lineTooLong)
    /// One reply (a top-level value with everything nested in it) holds more bytes than the parser's limit.
    static let replyTooLarge = Self(.replyTooLarge)

    package var description: String {
        switch code {
        case .invalidTypeByte(let byte): return "malformed RESP reply: unknown type byte 0x\(String(byte, radix: 16))"
        case .missingCRLF: return "malformed RESP reply: missing CR LF"
        case .invalidInteger: return "malformed RESP reply: invalid integer"
        case .invalidLength: return "malformed RESP reply: invalid length"
        case .bulkTooLong(let length): return "RESP bulk string of \(length) bytes is over the limit"
        case .arrayTooLong(let count): return "RESP array of \(count) elements is over the limit"
        case .nestingTooDeep: return "RESP arrays nested too deep"
        case .lineTooLong: return "RESP line over the limit"
        case .replyTooLarge: return "RESP reply over the size limit"
        }
    }
}
