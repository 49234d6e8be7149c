import Foundation
import Testing

@testable import E2EE

/// `E2EEStreamSealer` framing: which lines pass byte for byte, how partial lines are held, how a stream may end.
@Suite struct StreamSealerTests {
    let fixture: ExchangeFixture
    let exchange: E2EEExchange

    init() throws {
        self.fixture = try ExchangeFixture()
        let client = try self.fixture.client(.near(version: 2), .ecdsa)
        self.exchange = try self.fixture.exchange(E2EEHeaders(client.headers), .chatCompletions)
    }

    func consume(_ sealer: inout E2EEStreamSealer, _ text: String) throws -> [UInt8] {
        try Array(text.utf8).withUnsafeBytes { raw throws(E2EEError) in try sealer.consume(raw) }
    }

    @Test func linesWithoutFieldsPassByteForByte() throws {
        let passing = [
            ": ping\n", "event: message\n", "id: 7\r\n", "retry: 1000\n", "\n", "\r\n", "data: [DONE]\n", "data:[DONE]\r\n",
            "data:   [DONE]  \n", "data:\n", "data: \n", #"data: {"error":{"message":"boom","type":"BadRequestError","code":400}}"# + "\n",
            #"data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"x":1.50}}"# + "\r\n",
            #"data: {"id":"c","choices":[{"index":0,"delta":{"content":"","role":"assistant"}}]}"# + "\n",
            "Data: not a field we read\n",
        ]
        var sealer = self.exchange.streamSealer()
        for line in passing {
            #expect(try self.consume(&sealer, line) == Array(line.utf8), "\(line)")
        }
        #expect(try sealer.finish().isEmpty)
    }

    @Test func dataLinesAreSealedWithOrWithoutTheSpace() throws {
        var sealer = self.exchange.streamSealer()
        for prefix in ["data: ", "data:"] {
            let output = String(decoding: try self.consume(&sealer, prefix + #"{"choices":[{"delta":{"content":"x"}}]}"# + "\r\n"), as: UTF8.self)
            #expect(output.hasPrefix(prefix + #"{"choices":[{"delta":{"content":""#) && output.hasSuffix("\"}}]}\r\n"))
            #expect(!output.contains(#""x""#))
        }
    }

    @Test func partialLinesAreHeldUntilTheirEnd() throws {
        var sealer = self.exchange.streamSealer()
        #expect(try self.consume(&sealer, ": com").isEmpty)
        #expect(try self.consume(&sealer, "ment\n: next") == Array(": comment\n".utf8))
        #expect(try self.consume(&sealer, #"\#ndata: {"choices":[{"delta":{"content":"#).count == ": next\n".utf8.count)
        let sealed = try self.consume(&sealer, #""y"}}]}"# + "\n\n")
        #expect(sealed.count > 100 && sealed.suffix(2) == [0x0A, 0x0A])
        #expect(try sealer.finish().isEmpty)
    }

    @Test func endingWithoutANewline() throws {
        for tail in [": bye", "data: [DONE]", "event: end", "data:"] {
            var sealer = self.exchange.streamSealer()
            #expect(try self.consume(&sealer, "\n" + tail) == [0x0A])
            #expect(try sealer.finish() == Array(tail.utf8))
            #expect(try sealer.finish().isEmpty)
        }
        // A data line with an event cut short may not be sent: sealing half an event is not possible.
        var sealer = self.exchange.streamSealer()
        _ = try self.consume(&sealer, #"data: {"choices":[{"delta":{"content":"z"}}]}"#)
        #expect(throws: E2EEError.unsealableAnswer(.near)) { try sealer.finish() }
    }

    /// A large stream in odd chunks: linear (no rescans), and only the partial line is held.
    @Test func manyEventsInOddChunks() throws {
        let event = #"data: {"id":"c","choices":[{"index":0,"delta":{"content":"tok"}}]}"# + "\n\n"
        let input = Array(String(repeating: event, count: 200).utf8)
        var sealer = self.exchange.streamSealer()
        var output: [UInt8] = []
        var start = 0
        while start < input.count {
            let end = min(input.count, start + 97)
            output += try input[start..<end].withUnsafeBytes { raw throws(E2EEError) in try sealer.consume(raw) }
            start = end
        }
        output += try sealer.finish()
        let lines = output.split(separator: 0x0A, omittingEmptySubsequences: false)
        #expect(lines.count == 401)
        #expect(lines.filter { $0.isEmpty }.count == 201)
        #expect(!String(decoding: output, as: UTF8.self).contains("\"tok\""))
    }
}
