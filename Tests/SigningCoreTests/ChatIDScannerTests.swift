import Foundation
import NIOCore
import SigningCore
import Testing
import TestFixtures

/// A recorded vLLM stream and the facts `Fixtures/vllm/NOTICE.md` states about it.
struct ScannerFixture: Sendable, CustomTestStringConvertible {
    var name: String
    var chatID: String

    var testDescription: String { name }

    static let all = [
        ScannerFixture(name: "chat-stream", chatID: "chatcmpl-bd7f0789f54390b4"),
        ScannerFixture(name: "chat-stream-n2", chatID: "chatcmpl-b248542ccbeddd7d"),
        ScannerFixture(name: "completion-stream", chatID: "cmpl-8d143dacff13650d"),
    ]

    func body() throws -> [UInt8] {
        try Fixtures.bytes("vllm/\(name).body")
    }
}

/// One malformed or unusual input and what the scanner must conclude from it.
struct ScannerCase: Sendable, CustomTestStringConvertible {
    var label: String
    var input: String
    var chatID: String?
    var sawDone = false

    var testDescription: String { label }
}

@Suite("ChatIDScanner")
struct ChatIDScannerTests {
    // MARK: Fixture streams

    @Test("every two-way split of a recorded stream", arguments: ScannerFixture.all)
    func everyTwoWaySplit(fixture: ScannerFixture) throws {
        let body = try fixture.body()
        let bounds = try Bounds(body)
        for split in 0...body.count {
            var scanner = ChatIDScanner()
            let first = feed(&scanner, body[..<split])
            #expect(scanner.chatID == (split >= bounds.idEnd ? fixture.chatID : nil), "split \(split)")
            #expect(scanner.sawDone == (split >= bounds.doneEnd), "split \(split)")
            #expect(first.contains(.foundChatID) == (split >= bounds.idEnd), "split \(split)")
            #expect(first.contains(.foundDone) == (split >= bounds.doneEnd), "split \(split)")
            let second = feed(&scanner, body[split...])
            #expect(second.contains(.foundChatID) == (split < bounds.idEnd), "split \(split)")
            #expect(second.contains(.foundDone) == (split < bounds.doneEnd), "split \(split)")
            #expect(scanner.chatID == fixture.chatID, "split \(split)")
            #expect(scanner.sawDone, "split \(split)")
        }
    }

    @Test("three-way splits at sampled positions", arguments: ScannerFixture.all)
    func threeWaySplits(fixture: ScannerFixture) throws {
        let body = try fixture.body()
        let bounds = try Bounds(body)
        var combinations = 0
        for first in stride(from: 0, through: body.count, by: 29) {
            for second in stride(from: first, through: body.count, by: 31) {
                var scanner = ChatIDScanner()
                var events: [ChatIDScanner.Event] = []
                for range in [0..<first, first..<second, second..<body.count] {
                    events.append(feed(&scanner, body[range]))
                    #expect(scanner.sawDone == (range.upperBound >= bounds.doneEnd), "\(first)/\(second)")
                    #expect((scanner.chatID != nil) == (range.upperBound >= bounds.idEnd), "\(first)/\(second)")
                }
                #expect(scanner.chatID == fixture.chatID, "\(first)/\(second)")
                #expect(events.filter { $0.contains(.foundChatID) }.count == 1, "\(first)/\(second)")
                #expect(events.filter { $0.contains(.foundDone) }.count == 1, "\(first)/\(second)")
                combinations += 1
            }
        }
        #expect(combinations > 1_000)
    }

    @Test("one byte at a time", arguments: ScannerFixture.all)
    func oneByteChunks(fixture: ScannerFixture) throws {
        let body = try fixture.body()
        let bounds = try Bounds(body)
        var scanner = ChatIDScanner()
        for index in body.indices {
            let event = feed(&scanner, body[index...index])
            #expect(event.contains(.foundChatID) == (index == bounds.idEnd - 1), "byte \(index)")
            #expect(event.contains(.foundDone) == (index == bounds.doneEnd - 1), "byte \(index)")
            #expect(scanner.sawDone == (index >= bounds.doneEnd - 1), "byte \(index)")
        }
        #expect(scanner.chatID == fixture.chatID)
    }

    @Test("random chunk sizes, also through ByteBuffer", arguments: ScannerFixture.all)
    func randomChunks(fixture: ScannerFixture) throws {
        let body = try fixture.body()
        var random = SplitMix64(seed: 0x5EED)
        for _ in 0..<200 {
            var scanner = ChatIDScanner()
            var offset = 0
            while offset < body.count {
                let end = min(body.count, offset + Int(random.next() % 97) + 1)
                _ = scanner.feed(ByteBuffer(bytes: body[offset..<end]))
                offset = end
            }
            #expect(scanner.chatID == fixture.chatID)
            #expect(scanner.sawDone)
        }
    }

    @Test("a body cut before [DONE] is not done", arguments: ScannerFixture.all)
    func cutBeforeDone(fixture: ScannerFixture) throws {
        let body = try fixture.body()
        let bounds = try Bounds(body)
        // Every cut up to, but not including, the newline that completes `data: [DONE]`.
        for cut in stride(from: 0, to: bounds.doneEnd, by: 1) where cut >= bounds.doneEnd - 40 || cut % 50 == 0 {
            var scanner = ChatIDScanner()
            _ = feed(&scanner, body[..<cut])
            #expect(!scanner.sawDone, "cut \(cut)")
        }
    }

    @Test("only the readable bytes of a ByteBuffer are scanned")
    func byteBufferReadableBytes() throws {
        let body = try ScannerFixture.all[0].body()
        var buffer = ByteBuffer()
        buffer.writeString("data: {\"id\":\"already-read\"}\n\n")
        let readPart = buffer.readableBytes
        buffer.writeBytes(body)
        buffer.moveReaderIndex(forwardBy: readPart)
        var scanner = ChatIDScanner()
        let event = scanner.feed(buffer)
        #expect(event == [.foundChatID, .foundDone])
        #expect(scanner.chatID == ScannerFixture.all[0].chatID)
    }

    @Test("CRLF line ends", arguments: ScannerFixture.all)
    func crlfStream(fixture: ScannerFixture) throws {
        let body = try fixture.body()
        let crlf = body.flatMap { $0 == UInt8(ascii: "\n") ? [UInt8(ascii: "\r"), $0] : [$0] }
        for chunkSize in [1, 2, 3, 7, 64, crlf.count] {
            var scanner = ChatIDScanner()
            var offset = 0
            while offset < crlf.count {
                let end = min(crlf.count, offset + chunkSize)
                _ = feed(&scanner, crlf[offset..<end])
                offset = end
            }
            #expect(scanner.chatID == fixture.chatID, "chunk \(chunkSize)")
            #expect(scanner.sawDone, "chunk \(chunkSize)")
        }
    }

    @Test("a non-streaming JSON body is not SSE", arguments: ["chat", "completion", "error-stream-too-long"])
    func jsonBodyIsNotSSE(name: String) throws {
        let body = try Fixtures.bytes("vllm/\(name).body")
        var scanner = ChatIDScanner()
        #expect(feed(&scanner, body[...]) == [])
        #expect(scanner.chatID == nil)
        #expect(!scanner.sawDone)
    }

    // MARK: Malformed and unusual input

    static let cases: [ScannerCase] = [
        ScannerCase(label: "empty", input: "", chatID: nil),
        ScannerCase(label: "partial DONE", input: "data: [DON\n\n"),
        ScannerCase(label: "partial DONE, no newline", input: "data: [DON"),
        ScannerCase(label: "DONE without newline", input: "data: [DONE]"),
        ScannerCase(label: "DONE", input: "data: [DONE]\n", sawDone: true),
        ScannerCase(label: "DONE with CR", input: "data: [DONE]\r\n", sawDone: true),
        ScannerCase(label: "DONE without space", input: "data:[DONE]\n", sawDone: true),
        ScannerCase(label: "DONE after two spaces", input: "data:  [DONE]\n"),
        ScannerCase(label: "DONE with trailing space", input: "data: [DONE] \n"),
        ScannerCase(label: "DONE with trailing byte", input: "data: [DONE]x\n"),
        ScannerCase(label: "DONE with two CRs", input: "data: [DONE]\r\r\n"),
        ScannerCase(label: "DONE lowercase", input: "data: [done]\n"),
        ScannerCase(label: "DONE in another field", input: "xdata: [DONE]\n: data: [DONE]\nevent: [DONE]\n"),
        ScannerCase(
            label: "numeric id, then a good event",
            input: "data: {\"id\": 5}\n\ndata: {\"id\":\"good\"}\n\n",
            chatID: "good"
        ),
        ScannerCase(label: "nested id first", input: "data: {\"x\":{\"id\":\"no\"},\"id\":\"yes\"}\n", chatID: "yes"),
        ScannerCase(label: "only a nested id", input: "data: {\"x\":{\"id\":\"no\"}}\n"),
        ScannerCase(
            label: "ids inside arrays",
            input: "data: {\"a\":[{\"id\":\"no\"},\"]}\\\"id\\\"\",[[]]],\"id\":\"yes\"}\n",
            chatID: "yes"
        ),
        ScannerCase(
            label: "string containing \"id\"",
            input: "data: {\"note\":\"\\\"id\\\":\\\"fake\\\"\",\"id\":\"real\"}\n",
            chatID: "real"
        ),
        ScannerCase(label: "key \"\\\"id\\\"\" is not id", input: "data: {\"\\\"id\\\"\":\"no\"}\n"),
        ScannerCase(label: "escaped quote in id", input: "data: {\"id\":\"a\\\"b\\\\c\\/d\"}\n", chatID: "a\"b\\c/d"),
        ScannerCase(label: "\\u escapes in id", input: "data: {\"id\":\"\\u0063mpl-\\u00E9\"}\n", chatID: "cmpl-é"),
        ScannerCase(label: "escaped key", input: "data: {\"\\u0069d\":\"x\"}\n", chatID: "x"),
        ScannerCase(label: "surrogate pair", input: "data: {\"id\":\"\\ud83d\\ude00\"}\n", chatID: "😀"),
        ScannerCase(label: "lone high surrogate", input: "data: {\"id\":\"\\ud83dx\"}\n"),
        ScannerCase(label: "lone low surrogate", input: "data: {\"id\":\"\\ude00\"}\n"),
        ScannerCase(label: "invalid escape", input: "data: {\"id\":\"\\x41\"}\n"),
        ScannerCase(label: "short \\u escape", input: "data: {\"id\":\"\\u12\"}\n"),
        ScannerCase(label: "control character in string", input: "data: {\"id\":\"a\u{01}b\"}\n"),
        ScannerCase(
            label: "CRLF lines",
            input: "data: {\"id\":\"crlf\"}\r\n\r\ndata: [DONE]\r\n\r\n",
            chatID: "crlf",
            sawDone: true
        ),
        ScannerCase(label: "data: without space", input: "data:{\"id\":\"nospace\"}\n", chatID: "nospace"),
        ScannerCase(label: "JSON whitespace around object", input: "data:  \t{ \"id\" : \"ws\" }  \r\n", chatID: "ws"),
        ScannerCase(
            label: "other SSE fields are ignored",
            input: "event: message\nid: 7\nretry: 10\n: {\"id\":\"c\"}\nid: {\"id\":\"f\"}\ndata\n\ndata: {\"id\":\"z\"}\n\n",
            chatID: "z"
        ),
        ScannerCase(label: "JSON line, not SSE", input: "{\"id\":\"plain\"}\n"),
        ScannerCase(label: "trailing junk after object", input: "data: {\"id\":\"a\"} x\n"),
        ScannerCase(label: "two objects on a line", input: "data: {\"id\":\"a\"}{}\n"),
        ScannerCase(label: "duplicate top-level id", input: "data: {\"id\":\"a\",\"id\":\"b\"}\n"),
        ScannerCase(label: "duplicate id, one numeric", input: "data: {\"id\":1,\"id\":\"b\"}\n"),
        ScannerCase(label: "truncated object", input: "data: {\"id\":\"a\"\n"),
        ScannerCase(label: "trailing comma", input: "data: {\"id\":\"a\",}\n"),
        ScannerCase(label: "missing colon", input: "data: {\"id\" \"a\"}\n"),
        ScannerCase(label: "single quotes", input: "data: {'id':'a'}\n"),
        ScannerCase(label: "empty id, then a good one", input: "data: {\"id\":\"\"}\ndata: {\"id\":\"second\"}\n", chatID: "second"),
        ScannerCase(label: "line not complete", input: "data: {\"id\":\"x\"}"),
        ScannerCase(label: "array payload", input: "data: [{\"id\":\"arr\"}]\n"),
        ScannerCase(label: "string payload", input: "data: \"id\"\n"),
        ScannerCase(label: "empty object", input: "data: {}\ndata: { }\n"),
        ScannerCase(label: "first id wins", input: "data: {\"id\":\"first\"}\ndata: {\"id\":\"second\"}\n", chatID: "first"),
        ScannerCase(label: "id after DONE", input: "data: [DONE]\n\ndata: {\"id\":\"late\"}\n", chatID: "late", sawDone: true),
        ScannerCase(
            label: "valid numbers and literals",
            input: "data: {\"n\":-0.5e+3,\"m\":[0,1,2.0,3E2,-1e-2,true,false,null],\"id\":\"num\"}\n",
            chatID: "num"
        ),
        ScannerCase(label: "leading zero", input: "data: {\"n\":01,\"id\":\"x\"}\n"),
        ScannerCase(label: "bare decimal point", input: "data: {\"n\":1.,\"id\":\"x\"}\n"),
        ScannerCase(label: "bad literal", input: "data: {\"n\":tru,\"id\":\"x\"}\n"),
        ScannerCase(label: "id holds an object", input: "data: {\"id\":{\"id\":\"x\"}}\n"),
    ]

    @Test("malformed and unusual input", arguments: cases)
    func unusualInput(testCase: ScannerCase) {
        let bytes = Array(testCase.input.utf8)
        for chunkSize in [max(1, bytes.count), 1, 5] {
            var scanner = ChatIDScanner()
            var offset = 0
            repeat {
                let end = min(bytes.count, offset + chunkSize)
                _ = feed(&scanner, bytes[offset..<end])
                offset = end
            } while offset < bytes.count
            #expect(scanner.chatID == testCase.chatID, "chunk \(chunkSize)")
            #expect(scanner.sawDone == testCase.sawDone, "chunk \(chunkSize)")
        }
    }

    @Test("an id that is not valid UTF-8 is rejected")
    func invalidUTF8ID() {
        var bytes = Array("data: {\"id\":\"a".utf8)
        bytes += [0xC3, 0x28]
        bytes += Array("\"}\ndata: {\"id\":\"ok\"}\n".utf8)
        var scanner = ChatIDScanner()
        _ = feed(&scanner, bytes[...])
        #expect(scanner.chatID == "ok")
    }

    @Test("random garbage: no crash, no id, no DONE")
    func garbage() {
        var random = SplitMix64(seed: 42)
        // Printable bytes and newlines without `{`: no line can be a JSON object.
        let bytes = (0..<200_000).map { _ -> UInt8 in
            let value = UInt8(truncatingIfNeeded: random.next())
            return value == UInt8(ascii: "{") ? 0x0A : value
        }
        var scanner = ChatIDScanner()
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + Int(random.next() % 4_096) + 1)
            #expect(feed(&scanner, bytes[offset..<end]) == [])
            offset = end
        }
        #expect(scanner.chatID == nil)
        #expect(!scanner.sawDone)
    }

    @Test("streams built from SSE fragments agree with a line-by-line reference")
    func fragmentFuzz() {
        let fragments = [
            "data:", "data: ", " ", "{", "}", "\"id\"", ":", "\"x\"", "\"", "\\", "[DONE]", "\n", "\n", "\r",
            ",", "[", "]", "\"y\\\"z\"", "1", ": comment", "\u{FFFD}",
            // Whole pieces, so that a fair share of lines is valid and the positive paths are taken.
            "data: {\"id\":\"x\"}\n", "{\"id\":\"w\"}", "{\"a\":{\"id\":\"n\"},\"id\":\"v\"}", "data: [DONE]\n",
            "\"id\":\"u\"",
        ]
        var random = SplitMix64(seed: 7)
        var foundIDs = 0
        var foundDones = 0
        for _ in 0..<2_000 {
            var text = ""
            for _ in 0..<Int(random.next() % 40) {
                text += fragments[Int(random.next() % UInt64(fragments.count))]
            }
            let bytes = Array(text.utf8)
            let expected = referenceScan(bytes)
            if expected.chatID != nil { foundIDs += 1 }
            if expected.sawDone { foundDones += 1 }
            for chunking in 0..<3 {
                var scanner = ChatIDScanner()
                var offset = 0
                while offset < bytes.count {
                    let size = chunking == 0 ? bytes.count : chunking == 1 ? 1 : Int(random.next() % 6) + 1
                    let end = min(bytes.count, offset + size)
                    _ = feed(&scanner, bytes[offset..<end])
                    offset = end
                }
                #expect(scanner.chatID == expected.chatID, "\(text.debugDescription)")
                #expect(scanner.sawDone == expected.sawDone, "\(text.debugDescription)")
            }
        }
        // The generator must exercise the positive path too, or the comparison proves little.
        #expect(foundIDs > 100)
        #expect(foundDones > 100)
    }

    // MARK: Limits

    @Test("a line over maxLineLength is skipped for the id, without growing")
    func overlongLine() {
        let long = "data: {\"pad\":\"" + String(repeating: "x", count: 200) + "\",\"id\":\"long\"}\n"
        let input = Array((long + "data: {\"id\":\"short\"}\n" + "data: [DONE]\n").utf8)
        var scanner = ChatIDScanner(maxLineLength: 64)
        for index in input.indices {
            _ = feed(&scanner, input[index...index])
            #expect(scanner.bufferedByteCount <= 64)
        }
        #expect(scanner.chatID == "short")
        #expect(scanner.sawDone)
    }

    @Test("a line of exactly maxLineLength bytes is still examined")
    func lineLengthBoundary() {
        let line = "data: {\"id\":\"edge\"}\r"
        let input = Array((line + "\n").utf8)
        for (limit, expected) in [(line.utf8.count, "edge" as String?), (line.utf8.count - 1, nil)] {
            var scanner = ChatIDScanner(maxLineLength: limit)
            _ = feed(&scanner, input[...])
            #expect(scanner.chatID == expected, "limit \(limit)")
        }
    }

    @Test("an endless line keeps the buffer bounded by the default limit")
    func endlessLine() {
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1_024)
        var scanner = ChatIDScanner()
        _ = feed(&scanner, Array("data: {\"id\":\"x\",\"pad\":\"".utf8)[...])
        for _ in 0..<(8 * 16) {  // 8 MiB
            _ = feed(&scanner, chunk[...])
            #expect(scanner.bufferedByteCount <= 1 << 20)
        }
        #expect(scanner.bufferedByteCount == 0)
        _ = feed(&scanner, Array("\"}\ndata: {\"id\":\"after\"}\ndata: [DONE]\n".utf8)[...])
        #expect(scanner.chatID == "after")
        #expect(scanner.sawDone)
    }

    @Test("nothing is buffered once the id is known")
    func noBufferingAfterID() throws {
        let body = try ScannerFixture.all[0].body()
        let bounds = try Bounds(body)
        var scanner = ChatIDScanner()
        _ = feed(&scanner, body[..<(bounds.idEnd + 100)])
        #expect(scanner.chatID != nil)
        #expect(scanner.bufferedByteCount == 0)
        // Lines that are not `data:` are not buffered either, even before the id.
        var fresh = ChatIDScanner()
        _ = feed(&fresh, Array(": a long comment line without data".utf8)[...])
        #expect(fresh.bufferedByteCount == 0)
    }

    @Test("nesting deeper than the limit is rejected without crashing")
    func deepNesting() {
        func line(depth: Int) -> String {
            "data: {\"a\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                + ",\"id\":\"deep\"}\n"
        }
        // The top-level object is depth 1, so `maxDepth - 1` arrays fit.
        let limit = TopLevelIDExtractor.maxDepth
        for (depth, expected) in [(limit - 1, "deep" as String?), (limit, nil), (100_000, nil)] {
            var scanner = ChatIDScanner()
            _ = feed(&scanner, Array(line(depth: depth).utf8)[...])
            #expect(scanner.chatID == expected, "depth \(depth)")
        }
    }

    @Test("the extractor agrees with JSONSerialization on the recorded bodies")
    func extractorAgreesWithFoundation() throws {
        var payloads: [[UInt8]] = []
        for name in ["chat", "completion", "models", "error-too-long"] {
            payloads.append(try Fixtures.bytes("vllm/\(name).body"))
        }
        for fixture in ScannerFixture.all {
            let body = try fixture.body()
            for line in body.split(separator: UInt8(ascii: "\n")) where line.starts(with: Array("data: {".utf8)) {
                payloads.append(Array(line.dropFirst(6)))
            }
        }
        #expect(payloads.count == 4 + 10 + 10 + 8)
        var ids = 0
        for payload in payloads {
            let object = try JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
            let expected = object?["id"] as? String
            let actual = payload.withUnsafeBytes { TopLevelIDExtractor.stringID(in: $0) }
            #expect(actual == expected)
            if actual != nil { ids += 1 }
        }
        #expect(ids == 2 + 28)
    }
}

// MARK: - Helpers

/// Byte offsets just past the first line and just past the `data: [DONE]` line's newline.
private struct Bounds {
    var idEnd: Int
    var doneEnd: Int

    init(_ body: [UInt8]) throws {
        let firstNewline = try #require(body.firstIndex(of: UInt8(ascii: "\n")))
        let marker = Array("data: [DONE]\n".utf8)
        let doneStart = try #require(
            body.indices.first { body[$0...].starts(with: marker) }
        )
        idEnd = firstNewline + 1
        doneEnd = doneStart + marker.count
    }
}

private func feed(_ scanner: inout ChatIDScanner, _ bytes: ArraySlice<UInt8>) -> ChatIDScanner.Event {
    bytes.withUnsafeBytes { scanner.feed($0) }
}

/// The scanner's rules applied to whole lines: the model the streaming state machine must match.
private func referenceScan(_ bytes: [UInt8]) -> (chatID: String?, sawDone: Bool) {
    var chatID: String?
    var sawDone = false
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    lines.removeLast()  // unterminated
    for var line in lines {
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard line.starts(with: Array("data:".utf8)) else { continue }
        var payload = line.dropFirst(5)
        if payload.first == UInt8(ascii: " ") { payload.removeFirst() }
        if payload.elementsEqual(Array("[DONE]".utf8)) { sawDone = true }
        if chatID == nil {
            chatID = Array(payload).withUnsafeBytes { TopLevelIDExtractor.stringID(in: $0) }
        }
    }
    return (chatID, sawDone)
}

/// vLLM reports a failure mid-stream as `data: {"error": …}` and still sends `[DONE]`: such a stream is
/// relayed whole but never counts as clean.
@Suite("ChatIDScanner: error events")
struct ChatIDScannerErrorTests {
    static let cases: [(String, Bool)] = [
        ("data: {\"id\":\"c1\"}\n\ndata: {\"error\": {\"message\":\"boom\"}}\n\ndata: [DONE]\n\n", true),
        ("data: {\"id\":\"c1\"}\n\ndata:{\"error\":{}}\r\n\r\ndata: [DONE]\n\n", true),
        ("data: {\"id\":\"c1\"}\n\ndata: {  \"error\":1}\n\ndata: [DONE]\n\n", true),
        ("data: {\"id\":\"c1\",\"error\":null}\n\ndata: [DONE]\n\n", false),
        ("data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"{\\\"error\\\"\"}}]}\n\ndata: [DONE]\n\n", false),
        ("data: {\"errors\":1}\n\ndata: {\"id\":\"c1\"}\n\ndata: [DONE]\n\n", false),
        ("data: {\"id\":\"c1\"}\n\ndata: [DONE]\n\ndata: {\"error\":{}}\n\n", false),
        (": {\"error\"\n\ndata: {\"id\":\"c1\"}\n\ndata: [DONE]\n\n", false),
    ]

    @Test("an error object before [DONE] marks the stream, at every two-way split")
    func errorEvents() {
        for (input, expected) in Self.cases {
            let bytes = Array(input.utf8)
            for cut in 0...bytes.count {
                var scanner = ChatIDScanner()
                _ = bytes[..<cut].withUnsafeBytes { scanner.feed($0) }
                _ = bytes[cut...].withUnsafeBytes { scanner.feed($0) }
                #expect(scanner.sawError == expected, "\(input.debugDescription) cut at \(cut)")
                #expect(scanner.sawDone)
                var exchange = StreamingExchange()
                _ = exchange.consume(ByteBuffer(bytes: bytes[..<cut]))
                _ = exchange.consume(ByteBuffer(bytes: bytes[cut...]))
                #expect(exchange.endedCleanly == !expected)
            }
        }
    }
}
