import NIOCore
import Testing

@testable import RedisClient

@Suite("RESP2 command encoding")
struct RESPEncoderTests {
    @Test("a command is an array of bulk strings")
    func exactBytes() {
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(["SET", "key", "value", "EX", "60", "NX"], into: &buffer)
        #expect(String(buffer: buffer) == "*6\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n$2\r\nEX\r\n$2\r\n60\r\n$2\r\nNX\r\n")
    }

    @Test("binary and empty arguments round-trip through the parser; text and bytes encode alike")
    func binarySafe() throws {
        let arguments = [
            ByteBuffer(string: "SET"), ByteBuffer(string: "k\r\n*1\r\n"), ByteBuffer(bytes: [0, 0xFF, 0x0D, 0x0A, 0x80]), ByteBuffer(),
            ByteBuffer(string: "é"),
        ]
        var buffer = ByteBuffer()
        RESPEncoder.writeCommand(arguments, into: &buffer)
        var parser = RESPParser()
        parser.append(buffer)
        #expect(try parser.next() == .array(arguments.map { .bulkString($0) }))
        #expect(try parser.next() == nil)

        var fromText = ByteBuffer()
        RESPEncoder.writeCommand(["GET", "é"], into: &fromText)
        var fromBytes = ByteBuffer()
        RESPEncoder.writeCommand([ByteBuffer(string: "GET"), ByteBuffer(string: "é")], into: &fromBytes)
        #expect(fromText == fromBytes)
        #expect(String(buffer: fromText) == "*2\r\n$3\r\nGET\r\n$2\r\né\r\n")
    }
}
