import NIOCore
import Testing

@testable import SigningProxyServer

/// What the fast-path fuzz target (fuzz/README.md) found, replayed on `EmbeddedConnection`. Each input
/// is also a seed in `fuzz/Corpus/fast-path`, so `make fuzz` replays it under the target's checks.
///
/// A finding still open is wrapped in `withKnownIssue`, which keeps the suite green while it is; drop
/// the wrapper with the fix.
@Suite("Fast path: fuzzing findings")
struct FuzzFindingsTests {
    static let auth = "Authorization: Bearer test-token\r\n"
    static let chat = #"{"model":"tiny","messages":[]}"#
    static let completion =
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: \(chat.utf8.count)\r\n\r\n\(chat)"

    /// Seeds `upstream-status-028` and `upstream-status-204`. The exchange passed the upstream status
    /// on as it was (now a 502). A status outside 100...599 gives the client a status line that is not HTTP
    /// (`HTTP/1.1 28`); a 204 or 304 gives it a head that by definition ends the response (NIO's
    /// encoder drops the `Content-Length` for these statuses) followed by the JSON error envelope, which
    /// the client then reads as the start of the next response.
    @Test(
        "an upstream status that is not a final status with a body is not passed on",
        arguments: [
            "HTTP/1.1 028 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            "HTTP/1.1 999 Odd\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            "HTTP/1.1 204 No Content\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\n\r\n",
        ])
    func oddUpstreamStatus(answer: String) throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(Self.completion)
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        connection.answer(on: upstream, answer)
        let output = try connection.output()
        let statusLine = output.prefix { $0 != "\r" }
        let status = statusLine.split(separator: " ").dropFirst().first
        #expect(status?.count == 3, "\(statusLine)")
        #expect(status.flatMap { Int($0) }.map { (200...599).contains($0) && $0 != 204 && $0 != 304 } == true, "\(statusLine)")
        #expect(output.hasPrefix("HTTP/1.1 502"), "a broken upstream is a 502")
        #expect(!output.isEmpty, "the client gets an answer")
    }

    /// Seed `bytes-after-parse-error`. A client pipelines two completions and, while the second is with
    /// vLLM, sends bytes that are not HTTP, then more. The decoder reports the second batch as
    /// `ByteToMessageDecoderError.dataReceivedInErrorState`, which `FastPathRouter.errorCaught` once took
    /// for a connection reset (the first answer, written in full, lost its signature).
    @Test("bytes after a parse error are not a reset: an answer written in full keeps its signature")
    func bytesAfterParseError() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(Self.completion + Self.completion)
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        _ = try connection.sent(on: upstream)
        connection.answer(on: upstream, EmbeddedExchangeTests.jsonAnswer(id: "chatcmpl-after-parse-error"))
        #expect(try connection.output().contains("chatcmpl-after-parse-error"))
        connection.send("\u{1} not http\r\n\r\n")
        connection.send("more\r\n")
        // Past the delivery grace: an answer nobody reset is published by now.
        connection.advance(by: .seconds(1))
        #expect(connection.services.notary.lookup("chatcmpl-after-parse-error") != nil)
        #expect(connection.services.metrics.value(.signaturesDroppedUndelivered) == 0)
    }

    /// Seed `cut-stream-after-answer`. A client pipelines a completion and a streamed completion; the
    /// first is answered in full, then vLLM cuts the second stream after its first event, within the
    /// first answer's delivery grace. The proxy closes the connection itself (the stream cannot be
    /// finished), and `channelInactive` used to read that close as the client's reset: the first
    /// answer, written in full and never reset, lost its signature.
    @Test("a close the proxy chooses does not undo an earlier answer's delivery")
    func cutStreamAfterAnswer() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let stream = #"{"model":"tiny","messages":[],"stream":true}"#
        connection.send(
            Self.completion
                + "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.auth)Content-Length: \(stream.utf8.count)\r\n\r\n\(stream)")
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        connection.answer(on: upstream, EmbeddedExchangeTests.jsonAnswer(id: "chatcmpl-before-cut"))
        #expect(try connection.output().contains("chatcmpl-before-cut"))
        let event = #"data: {"id":"chatcmpl-cut","choices":[]}"# + "\n\n"
        connection.answer(
            on: upstream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(event.utf8.count, radix: 16) + "\r\n\(event)\r\n")
        upstream.close(promise: nil)
        connection.loop.run()
        #expect(!connection.isActive, "a cut stream ends its connection")
        connection.advance(by: .seconds(1))
        #expect(connection.services.notary.lookup("chatcmpl-before-cut") != nil)
        #expect(connection.services.notary.lookup("chatcmpl-cut") == nil)
        #expect(connection.services.metrics.value(.signaturesDroppedUndelivered) == 0)
    }
}
