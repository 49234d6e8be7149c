import NIOCore

/// An incremental RESP2 reply parser: feed it bytes as they arrive, split anywhere, and take whole values out.
///
/// Every length the server sends is checked against `Limits` before anything is reserved or waited for, and the bytes
/// of one reply are counted as they are read, so a broken or hostile server costs at most the limits in memory. After
/// an error the parser keeps throwing it: the stream is out of step and the connection must be dropped.
package struct RESPParser {
    /// Bounds on what one reply may contain.
    package struct Limits: Sendable, Hashable {
        /// The longest bulk string, in bytes.
        package var maxBulkLength: Int
        /// The most elements in one array.
        package var maxArrayLength: Int
        /// The most arrays nested inside each other (a flat array is depth 1).
        package var maxDepth: Int
        /// The longest line (simple string, error, integer or length header), in bytes without CR LF.
        package var maxLineLength: Int
        /// The most bytes of one whole reply, nested values included (the other limits alone allow arrays of
        /// arrays of bulk strings far larger).
        package var maxReplyBytes: Int

        package init(maxBulkLength: Int, maxArrayLength: Int, maxDepth: Int, maxLineLength: Int, maxReplyBytes: Int? = nil) {
            self.maxBulkLength = maxBulkLength
            self.maxArrayLength = maxArrayLength
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
            self.maxReplyBytes = maxReplyBytes ?? 4 * maxBulkLength
        }

        /// Generous for the small records this client stores, far below Redis's own 512 MB bulk limit.
        package static let `default` = Limits(
            maxBulkLength: 16 << 20, maxArrayLength: 1 << 20, maxDepth: 16, maxLineLength: 64 << 10, maxReplyBytes: 64 << 20)
    }

    /// An array whose elements are still arriving.
    private struct Frame {
        var remaining: Int
        var elements: [RESPValue]
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    package let limits: Limits
    private var buffer = ByteBuffer()
    /// Bytes after the reader index already searched for CR LF, so a line arriving in pieces is scanned once.
    private var scanned = 0
    /// The length of a bulk string whose header was read and whose body (and CR LF) is awaited.
    private var pendingBulk: Int?
    private var stack: [Frame] = []
    /// Bytes read so far of the reply being parsed.
    private var replyBytes = 0
    private var failure: RESPParseError?

    package init(limits: Limits = .default) {
        self.limits = limits
    }

    /// True when no bytes of an unfinished value are held.
    package var isIdle: Bool { buffer.readableBytes == 0 && pendingBulk == nil && stack.isEmpty }

    /// Adds bytes received from the server.
    package mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 {
            // The common case, a read holding whole replies: parse the received buffer itself, no copy.
            buffer = bytes
            scanned = 0
            return
        }
        if buffer.readerIndex > 0 && buffer.readerIndex >= buffer.readableBytes {
            buffer.discardReadBytes()
        }
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    /// The next complete top-level value, or nil until more bytes arrive.
    package mutating func next() throws(RESPParseError) -> RESPValue? {
        if let failure { throw failure }
        do {
            return try parseNext()
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func parseNext() throws(RESPParseError) -> RESPValue? {
        while true {
            let value: RESPValue
            let start = buffer.readerIndex
            var completed = false
            // Counted once the element's bytes are read, whichever way this pass ends; a whole reply starts afresh.
            defer { replyBytes = completed ? 0 : replyBytes + buffer.readerIndex - start }
            if replyBytes > limits.maxReplyBytes { throw .replyTooLarge }
            if let length = pendingBulk {
                guard buffer.readableBytes >= length + 2 else { return nil }
                let body = buffer.readSlice(length: length)!
                guard buffer.readInteger(as: UInt8.self) == Self.cr, buffer.readInteger(as: UInt8.self) == Self.lf else {
                    throw .missingCRLF
                }
                pendingBulk = nil
                value = .bulkString(body)
            } else {
                guard var line = try readLine() else { return nil }
                let type = line.readInteger(as: UInt8.self)!
                switch type {
                case UInt8(ascii: "+"):
                    value = .simpleString(String(buffer: line))
                case UInt8(ascii: "-"):
                    value = .error(String(buffer: line))
                case UInt8(ascii: ":"):
                    guard let integer = Self.integer(line) else { throw .invalidInteger }
                    value = .integer(integer)
                case UInt8(ascii: "$"):
                    let length = try Self.length(line)
                    if length == -1 {
                        value = .null
                    } else {
                        guard length <= limits.maxBulkLength else { throw .bulkTooLong(length) }
                        pendingBulk = Int(length)
                        continue
                    }
                case UInt8(ascii: "*"):
                    let count = try Self.length(line)
                    if count == -1 {
                        value = .null
                    } else {
                        guard count <= limits.maxArrayLength else { throw .arrayTooLong(count) }
                        guard stack.count < limits.maxDepth else { throw .nestingTooDeep }
                        if count == 0 {
                            value = .array([])
                        } else {
                            var elements: [RESPValue] = []
                            // Reserve only what a small reply needs: the count is the server's claim, not bytes held.
                            elements.reserveCapacity(min(Int(count), 64))
                            stack.append(Frame(remaining: Int(count), elements: elements))
                            continue
                        }
                    }
                default:
                    throw .invalidTypeByte(type)
                }
            }
            if let complete = attach(value) {
                completed = true
                return complete
            }
        }
    }

    /// Adds `value` to the innermost open array, closing every array it completes; the top-level value once whole.
    private mutating func attach(_ value: RESPValue) -> RESPValue? {
        var value = value
        while !stack.isEmpty {
            let last = stack.count - 1
            stack[last].elements.append(value)
            stack[last].remaining -= 1
            guard stack[last].remaining == 0 else { return nil }
            value = .array(stack.removeLast().elements)
        }
        return value
    }

    /// The next line without its CR LF (type byte first), nil until its CR LF has arrived.
    private mutating func readLine() throws(RESPParseError) -> ByteBuffer? {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        // Reject a wrong first byte at once rather than after a whole line of garbage (an HTTP or TLS answer).
        switch first {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "*"): break
        default: throw .invalidTypeByte(first)
        }
        let found: Int? = buffer.withUnsafeReadableBytes { bytes in
            var index = scanned
            while index < bytes.count {
                let byte = bytes[index]
                if byte == Self.cr || byte == Self.lf { return index }
                index += 1
            }
            return nil
        }
        guard let end = found else {
            scanned = buffer.readableBytes
            guard scanned <= limits.maxLineLength else { throw .lineTooLong }
            return nil
        }
        guard end <= limits.maxLineLength else { throw .lineTooLong }
        guard buffer.getInteger(at: buffer.readerIndex + end, as: UInt8.self) == Self.cr else { throw .missingCRLF }
        guard let after = buffer.getInteger(at: buffer.readerIndex + end + 1, as: UInt8.self) else {
            scanned = end  // the CR is the last byte so far: look at it again when the LF may be there
            return nil
        }
        guard after == Self.lf else { throw .missingCRLF }
        let line = buffer.readSlice(length: end)!
        buffer.moveReaderIndex(forwardBy: 2)
        scanned = 0
        return line
    }

    /// A bulk or array length: `-1` (null) or decimal digits within 64 bits.
    private static func length(_ line: ByteBuffer) throws(RESPParseError) -> Int64 {
        if line.readableBytes == 2, line.getInteger(at: line.readerIndex, as: UInt16.self) == 0x2D31 { return -1 }  // "-1"
        guard let value = integer(line), value >= 0, line.getInteger(at: line.readerIndex, as: UInt8.self) != UInt8(ascii: "-")
        else { throw .invalidLength }
        return value
    }

    /// An optional `-` and at least one decimal digit, within `Int64`; no sign `+`, spaces or other bytes.
    private static func integer(_ line: ByteBuffer) -> Int64? {
        line.withUnsafeReadableBytes { bytes -> Int64? in
            var index = 0
            let negative = bytes.first == UInt8(ascii: "-")
            if negative { index = 1 }
            guard index < bytes.count else { return nil }
            // Accumulate the magnitude negatively so Int64.min fits.
            var value: Int64 = 0
            while index < bytes.count {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = shifted.subtractingReportingOverflow(Int64(digit))
                guard !overflow1, !overflow2 else { return nil }
                value = next
                index += 1
            }
            if negative { return value }
            guard value != Int64.min else { return nil }
            return -value
        }
    }
}
