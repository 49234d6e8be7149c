import NIOCore

/// Writes commands the way every Redis client sends them: an array of bulk strings (`*N`, then `$len` and bytes each).
///
/// Bulk strings are binary-safe, so keys and values need no escaping.
package enum RESPEncoder {
    /// Appends one command, `arguments[0]` being its name.
    package static func writeCommand(_ arguments: [ByteBuffer], into buffer: inout ByteBuffer) {
        var size = 16
        for argument in arguments { size += argument.readableBytes + 16 }
        buffer.reserveCapacity(minimumWritableBytes: size)
        writeHeader(UInt8(ascii: "*"), arguments.count, into: &buffer)
        for argument in arguments {
            writeHeader(UInt8(ascii: "$"), argument.readableBytes, into: &buffer)
            buffer.writeImmutableBuffer(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    /// Appends one command given as text (each argument sent as its UTF-8 bytes).
    package static func writeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), arguments.count, into: &buffer)
        for argument in arguments {
            writeHeader(UInt8(ascii: "$"), argument.utf8.count, into: &buffer)
            buffer.writeString(argument)
            buffer.writeStaticString("\r\n")
        }
    }

    private static func writeHeader(_ type: UInt8, _ count: Int, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        buffer.writeString(String(count))
        buffer.writeStaticString("\r\n")
    }
}
