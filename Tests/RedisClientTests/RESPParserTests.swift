import NIOCore
import Testing
import TestFixtures

@testable import RedisClient

@Suite("RESP2 parser: whole values from bytes split anywhere, clear errors for anything else")
struct RESPParserTests {
    /// Replies of every type, each with the value it must decode to.
    static let replies: [(String, RESPValue)] = [
        ("+OK\r\n", .simpleString("OK")),
        ("+\r\n", .simpleString("")),
        ("-ERR unknown command 'FOO'\r\n", .error("ERR unknown command 'FOO'")),
        (":0\r\n", .integer(0)),
        (":-1\r\n", .integer(-1)),
        (":9223372036854775807\r\n", .integer(.max)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("$0\r\n\r\n", .bulkString(ByteBuffer())),
        ("$-1\r\n", .null),
        ("$6\r\nhe\r\nlo\r\n", .bulkString(ByteBuffer(string: "he\r\nlo"))),
        ("*-1\r\n", .null),
        ("*0\r\n", .array([])),
        (
            "*3\r\n:1\r\n$3\r\nfoo\r\n*2\r\n+a\r\n$-1\r\n",
            .array([.integer(1), .bulkString(ByteBuffer(string: "foo")), .array([.simpleString("a"), .null])])
        ),
        ("*2\r\n*1\r\n*0\r\n*1\r\n:7\r\n", .array([.array([.array([])]), .array([.integer(7)])])),
    ]

    static var stream: ByteBuffer { ByteBuffer(string: replies.map(\.0).joined()) }
    static var expected: [RESPValue] { replies.map(\.1) }

    /// Feeds `chunks` one after the other and collects every value the parser gives.
    static func parse(_ chunks: [ByteBuffer], limits: RESPParser.Limits = .default) throws(RESPParseError) -> [RESPValue] {
        var parser = RESPParser(limits: limits)
        var values: [RESPValue] = []
        for chunk in chunks {
            parser.append(chunk)
            while let value = try parser.next() { values.append(value) }
        }
        return values
    }

    @Test("each reply type decodes")
    func eachReply() throws {
        for (bytes, value) in Self.replies {
            #expect(try Self.parse([ByteBuffer(string: bytes)]) == [value], "\(bytes.debugDescription)")
        }
    }

    @Test("all replies back to back, split in two at every point")
    func everySplitPoint() throws {
        let stream = Self.stream
        for split in 0...stream.readableBytes {
            let chunks = [stream.getSlice(at: 0, length: split)!, stream.getSlice(at: split, length: stream.readableBytes - split)!]
            #expect(try Self.parse(chunks) == Self.expected, "split at \(split)")
        }
    }

    @Test("the nested and binary replies split in three at every pair of points")
    func everyPairOfSplitPoints() throws {
        // A subset: all replies at every pair of points take seconds in a debug build.
        let subset = [Self.replies[9], Self.replies[12], Self.replies[13]]
        let stream = ByteBuffer(string: subset.map(\.0).joined())
        let expected = subset.map(\.1)
        let count = stream.readableBytes
        for first in 0...count {
            for second in first...count {
                let chunks = [
                    stream.getSlice(at: 0, length: first)!, stream.getSlice(at: first, length: second - first)!,
                    stream.getSlice(at: second, length: count - second)!,
                ]
                let values = try Self.parse(chunks)
                if values != expected {
                    Issue.record("splits at \(first) and \(second)")
                    return
                }
            }
        }
    }

    @Test("one byte at a time")
    func byteByByte() throws {
        let stream = Self.stream
        let chunks = (0..<stream.readableBytes).map { stream.getSlice(at: $0, length: 1)! }
        #expect(try Self.parse(chunks) == Self.expected)
    }

    @Test("every proper prefix of a reply is incomplete: no value, no error")
    func truncated() throws {
        for (bytes, _) in Self.replies {
            let buffer = ByteBuffer(string: bytes)
            for length in 0..<buffer.readableBytes {
                var parser = RESPParser()
                parser.append(buffer.getSlice(at: 0, length: length)!)
                #expect(try parser.next() == nil, "\(bytes.debugDescription) cut at \(length)")
            }
        }
    }

    static let small = RESPParser.Limits(maxBulkLength: 8, maxArrayLength: 4, maxDepth: 3, maxLineLength: 16)

    /// Malformed or oversized replies, each with the error it must raise (under `small` limits).
    static let malformed: [(String, RESPParseError)] = [
        ("?x\r\n", .invalidTypeByte(UInt8(ascii: "?"))),
        ("OK\r\n", .invalidTypeByte(UInt8(ascii: "O"))),
        ("HTTP/1.1 400 Bad Request\r\n\r\n", .invalidTypeByte(UInt8(ascii: "H"))),
        ("\u{16}\u{03}\u{01}", .invalidTypeByte(0x16)),  // a TLS record
        ("\r\n", .invalidTypeByte(UInt8(ascii: "\r"))),
        ("+OK\n", .missingCRLF),
        ("+OK\rX", .missingCRLF),
        ("+O\nK\r\n", .missingCRLF),
        ("$3\r\nabcXY", .missingCRLF),
        ("$3\r\nabcd\r\n", .missingCRLF),
        ("$3\nabc\r\n", .missingCRLF),
        (":12a\r\n", .invalidInteger),
        (":\r\n", .invalidInteger),
        (":-\r\n", .invalidInteger),
        (":+5\r\n", .invalidInteger),
        (": 5\r\n", .invalidInteger),
        (":5 \r\n", .invalidInteger),
        (":9223372036854775808\r\n", .lineTooLong),  // over the small line limit before it is read as a number
        ("$-2\r\n", .invalidLength),
        ("$-0\r\n", .invalidLength),
        ("$abc\r\n", .invalidLength),
        ("$\r\n", .invalidLength),
        ("$+3\r\n", .invalidLength),
        ("$ 3\r\n", .invalidLength),
        ("$3 \r\n", .invalidLength),
        ("$0x10\r\n", .invalidLength),
        ("*-5\r\n", .invalidLength),
        ("*1.5\r\n", .invalidLength),
        ("$9\r\n", .bulkTooLong(9)),
        ("$99999999999\r\n", .bulkTooLong(99_999_999_999)),
        ("*5\r\n", .arrayTooLong(5)),
        ("*1\r\n*1\r\n*1\r\n*1\r\n", .nestingTooDeep),
        ("*1\r\n*1\r\n*1\r\n*0\r\n", .nestingTooDeep),
        ("+aaaaaaaaaaaaaaaaaaaa\r\n", .lineTooLong),
        ("+aaaaaaaaaaaaaaaaaaaa", .lineTooLong),  // no CR LF yet: refused without waiting for one
        ("*2\r\n:1\r\n!\r\n", .invalidTypeByte(UInt8(ascii: "!"))),
        // Each part within its limit, the whole reply (46 bytes read before the fourth element) over 4 × 8.
        ("*4\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n", .replyTooLarge),
        ("*2\r\n*2\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n*2\r\n$8\r\n", .replyTooLarge),
    ]

    @Test("malformed and oversized replies raise their error, whole or byte by byte")
    func malformedReplies() {
        for (bytes, expected) in Self.malformed {
            let buffer = ByteBuffer(string: bytes)
            #expect(throws: expected, "\(bytes.debugDescription)") { try Self.parse([buffer], limits: Self.small) }
            let chunks = (0..<buffer.readableBytes).map { buffer.getSlice(at: $0, length: 1)! }
            #expect(throws: expected, "\(bytes.debugDescription) byte by byte") { try Self.parse(chunks, limits: Self.small) }
        }
    }

    @Test("lengths that do not fit 64 bits are invalid, under the default limits")
    func hugeLengths() {
        for bytes in ["$99999999999999999999\r\n", "*18446744073709551616\r\n", ":99999999999999999999\r\n"] {
            #expect(throws: RESPParseError.self, "\(bytes)") { try Self.parse([ByteBuffer(string: bytes)]) }
        }
        #expect(throws: RESPParseError.bulkTooLong(Int64.max)) { try Self.parse([ByteBuffer(string: "$9223372036854775807\r\n")]) }
    }

    @Test("values exactly at each limit pass")
    func atTheLimits() throws {
        let values = try Self.parse(
            [ByteBuffer(string: "$8\r\n12345678\r\n*4\r\n:1\r\n:2\r\n:3\r\n:4\r\n*1\r\n*1\r\n*0\r\n+aaaaaaaaaaaaaaa\r\n")],
            limits: Self.small)
        #expect(values.count == 4)
        #expect(values[3] == .simpleString(String(repeating: "a", count: 15)))
    }

    @Test("an error is sticky: the stream is out of step, so the parser never resumes")
    func stickyError() throws {
        var parser = RESPParser()
        parser.append(ByteBuffer(string: "?\r\n+OK\r\n"))
        #expect(throws: RESPParseError.invalidTypeByte(UInt8(ascii: "?"))) { try parser.next() }
        parser.append(ByteBuffer(string: "+OK\r\n"))
        #expect(throws: RESPParseError.invalidTypeByte(UInt8(ascii: "?"))) { try parser.next() }
    }

    @Test("errors describe themselves")
    func descriptions() {
        #expect(RESPParseError.invalidTypeByte(0x48).description == "malformed RESP reply: unknown type byte 0x48")
        #expect(RESPParseError.bulkTooLong(9).description.contains("9 bytes"))
    }

    @Test("random bytes and mutated replies never crash or loop: values or an error")
    func randomInput() {
        var random = SplitMix64(seed: 13)
        let valid = Array(Self.stream.readableBytesView)
        let alphabet = Array("+-:$*\r\n0123456789-a".utf8)
        for round in 0..<5_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(random.next() % 40)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            } else {
                bytes = valid
                for _ in 0..<(1 + random.next() % 3) {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            var parser = RESPParser(limits: Self.small)
            var buffer = ByteBuffer(bytes: bytes)
            while buffer.readableBytes > 0 {
                parser.append(buffer.readSlice(length: min(buffer.readableBytes, 1 + Int(random.next() % 7)))!)
                do {
                    while try parser.next() != nil {}
                } catch {
                    break
                }
            }
        }
    }
}
