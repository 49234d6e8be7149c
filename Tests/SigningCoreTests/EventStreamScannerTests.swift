import Foundation
import NIOCore
import SigningCore
import Testing

/// The Responses and Messages stream grammars, on the real vLLM captures in `Fixtures/vllm-routes`
/// (its NOTICE.md) and on hand-made faults, at every chunk split.
@Suite("EventStreamScanner")
struct EventStreamScannerTests {
    struct Capture: Sendable, CustomTestStringConvertible {
        var name: String
        var dialect: EventStreamScanner.Dialect
        var grammar: StreamingExchange.Grammar
        var id: String
        var testDescription: String { name }
    }

    static let captures = [
        Capture(name: "responses-stream", dialect: .responses, grammar: .responses, id: "resp_997fd5f4a52da6cd"),
        Capture(name: "messages-stream", dialect: .messages, grammar: .messages, id: "chatcmpl-befba0a404e72f10"),
    ]

    private static func scan(_ bytes: [UInt8], dialect: EventStreamScanner.Dialect, cuts: [Int]) -> EventStreamScanner {
        var scanner = EventStreamScanner(dialect: dialect)
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            _ = bytes[start..<cut].withUnsafeBytes { scanner.feed($0) }
            start = cut
        }
        return scanner
    }

    @Test("a capture at every two-way split: the id, a clean end", arguments: captures)
    func everySplit(capture: Capture) throws {
        let body = try Fixtures.bytes("vllm-routes/\(capture.name).body")
        for cut in 0...body.count {
            let scanner = Self.scan(body, dialect: capture.dialect, cuts: [cut])
            #expect(scanner.id == capture.id, "cut at \(cut)")
            #expect(scanner.sawEnd && !scanner.failed, "cut at \(cut)")
        }
    }

    @Test("a capture one byte at a time, with CRLF line ends", arguments: captures)
    func byteByByteCRLF(capture: Capture) throws {
        let body = try Fixtures.bytes("vllm-routes/\(capture.name).body")
        var crlf: [UInt8] = []
        for byte in body {
            if byte == 0x0A { crlf.append(0x0D) }
            crlf.append(byte)
        }
        let scanner = Self.scan(crlf, dialect: capture.dialect, cuts: Array(0..<crlf.count))
        #expect(scanner.id == capture.id)
        #expect(scanner.sawEnd)
    }

    @Test("a capture cut before its terminal event never ends cleanly", arguments: captures)
    func cutBeforeEnd(capture: Capture) throws {
        let body = try Fixtures.bytes("vllm-routes/\(capture.name).body")
        // The terminal event is dispatched by the last blank line: every prefix short of it is incomplete.
        let lastBlank = body.count - 1
        for length in stride(from: 0, to: lastBlank, by: 7) {
            let scanner = Self.scan(Array(body[..<length]), dialect: capture.dialect, cuts: [])
            #expect(!scanner.sawEnd, "prefix of \(length) bytes")
        }
    }

    @Test("the terminal chunk is held, the rest forwarded, every byte hashed", arguments: captures)
    func exchangeHoldsTheEnd(capture: Capture) throws {
        let body = try Fixtures.bytes("vllm-routes/\(capture.name).body")
        var exchange = StreamingExchange(grammar: capture.grammar)
        var forwarded: [UInt8] = []
        for chunk in stride(from: 0, to: body.count, by: 100).map({ Array(body[$0..<min($0 + 100, body.count)]) }) {
            if case .forward(let buffer) = exchange.consume(ByteBuffer(bytes: chunk)) {
                forwarded += buffer.readableBytesView
            }
        }
        let held = exchange.takeHeld().flatMap { Array($0.readableBytesView) }
        #expect(!held.isEmpty)
        #expect(forwarded + held == body)
        #expect(exchange.endedCleanly)
        #expect(exchange.chatID == capture.id)
        #expect(exchange.responseHash == StreamDigest.hex(of: ByteBuffer(bytes: body)))
    }

    struct Fault: Sendable, CustomTestStringConvertible {
        var label: String
        var dialect: EventStreamScanner.Dialect
        var input: String
        var id: String?
        var ends: Bool
        var fails: Bool = false
        var testDescription: String { label }
    }

    static let faults = [
        Fault(
            label: "responses: failed event", dialect: .responses,
            input: "event: response.created\ndata: {\"response\":{\"id\":\"resp_1\"}}\n\nevent: response.failed\ndata: {}\n\n",
            id: "resp_1", ends: false, fails: true),
        Fault(
            label: "responses: error after completed", dialect: .responses,
            input: "event: response.created\ndata: {\"response\":{\"id\":\"resp_1\"}}\n\nevent: response.completed\ndata: {}\n\nevent: error\ndata: {}\n\n",
            id: "resp_1", ends: true, fails: true),
        Fault(
            label: "responses: type from data without event lines", dialect: .responses,
            input: "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_2\"}}\n\ndata: {\"type\":\"response.incomplete\"}\n\n",
            id: "resp_2", ends: true),
        Fault(
            label: "responses: terminal event never dispatched (no blank line)", dialect: .responses,
            input: "event: response.created\ndata: {\"response\":{\"id\":\"resp_1\"}}\n\nevent: response.completed\ndata: {}\n",
            id: "resp_1", ends: false),
        Fault(
            label: "responses: nested id only counts under response", dialect: .responses,
            input: "event: response.created\ndata: {\"id\":\"top\",\"response\":{\"output\":[{\"id\":\"inner\"}]}}\n\nevent: response.completed\ndata: {}\n\n",
            id: nil, ends: true),
        Fault(
            label: "responses: duplicate response.id is ambiguous", dialect: .responses,
            input: "data: {\"response\":{\"id\":\"a\",\"id\":\"b\"}}\n\nevent: response.completed\ndata: {}\n\n",
            id: nil, ends: true),
        Fault(
            label: "responses: malformed JSON carries no id", dialect: .responses,
            input: "event: response.created\ndata: {\"response\":{\"id\":\"resp_1\"}\n\nevent: response.completed\ndata: {}\n\n",
            id: nil, ends: true),
        Fault(
            label: "responses: a data line split over two lines is joined", dialect: .responses,
            input: "event: response.created\ndata: {\"response\":\ndata: {\"id\":\"resp_3\"}}\n\nevent: response.completed\ndata: {}\n\n",
            id: "resp_3", ends: true),
        Fault(
            label: "responses: comment lines and [DONE] are not ends", dialect: .responses,
            input: ": keep-alive\n\ndata: [DONE]\n\n", id: nil, ends: false),
        Fault(
            label: "messages: error event", dialect: .messages,
            input: "event: message_start\ndata: {\"message\":{\"id\":\"msg_1\"}}\n\nevent: error\ndata: {\"type\":\"error\"}\n\n",
            id: "msg_1", ends: false, fails: true),
        Fault(
            label: "messages: event name with no space and CR", dialect: .messages,
            input: "event:message_start\r\ndata:{\"message\":{\"id\":\"msg_2\"}}\r\n\r\nevent:message_stop\r\ndata:{}\r\n\r\n",
            id: "msg_2", ends: true),
        Fault(
            label: "messages: message_stop in another dialect's name does not end", dialect: .messages,
            input: "event: response.completed\ndata: {}\n\n", id: nil, ends: false),
        Fault(
            label: "messages: escaped member names are decoded", dialect: .messages,
            input: "data: {\"m\\u0065ssage\":{\"\\u0069d\":\"msg_\\u00e9\"}}\n\nevent: message_stop\ndata: {}\n\n",
            id: "msg_é", ends: true),
    ]

    @Test("faults, at every two-way split", arguments: faults)
    func fault(_ fault: Fault) {
        let bytes = Array(fault.input.utf8)
        for cut in 0...bytes.count {
            let scanner = Self.scan(bytes, dialect: fault.dialect, cuts: [cut])
            #expect(scanner.id == fault.id, "cut at \(cut)")
            #expect(scanner.sawEnd == fault.ends, "cut at \(cut)")
            #expect(scanner.failed == fault.fails, "cut at \(cut)")
        }
    }

    @Test("an over-long data line is skipped, not buffered")
    func boundedMemory() {
        var scanner = EventStreamScanner(dialect: .responses, maxLineLength: 64)
        let long = "data: {\"response\":{\"id\":\"" + String(repeating: "x", count: 500) + "\"}}\n\n"
        _ = scanner.feed(ByteBuffer(string: long))
        #expect(scanner.id == nil)
        _ = scanner.feed(ByteBuffer(string: "event: response.created\ndata: {\"response\":{\"id\":\"r\"}}\n\nevent: response.completed\ndata: {}\n\n"))
        #expect(scanner.id == "r")
        #expect(scanner.sawEnd)
    }

    @Test("an unsigned stream is never held")
    func unsignedNeverHolds() throws {
        let body = try Fixtures.bytes("vllm-routes/responses-stream.body")
        var exchange = StreamingExchange(grammar: .unsigned)
        guard case .forward = exchange.consume(ByteBuffer(bytes: body)) else {
            Issue.record("held")
            return
        }
        #expect(!exchange.endedCleanly)
        #expect(exchange.chatID == nil)
    }
}
