import Foundation
import NIOCore
import Testing

@testable import SigningProxyServer

/// Whole fast-path exchanges with both ends in memory: exactly what goes upstream, and what the
/// client gets when the upstream misbehaves.
@Suite("Fast path end to end on EmbeddedChannel: upstream framing and upstream faults")
struct EmbeddedExchangeTests {
    static let auth = "Authorization: Bearer test-token\r\n"
    static let chat = #"{"model":"tiny","messages":[]}"#

    static func jsonAnswer(id: String) -> String {
        let body = #"{"id":"\#(id)","object":"chat.completion","choices":[]}"#
        return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    @Test("a chunked completion goes upstream as one request with its exact length; the answer is signed once written")
    func completionFraming() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let half = Self.chat.utf8.count / 2
        let first = String(Self.chat.prefix(half))
        let second = String(Self.chat.dropFirst(half))
        connection.send(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.auth)Transfer-Encoding: chunked\r\n\r\n"
                + String(first.utf8.count, radix: 16) + "\r\n\(first)\r\n" + String(second.utf8.count, radix: 16) + "\r\n\(second)\r\n0\r\n\r\n")
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        let request = try connection.sent(on: upstream)
        let lines = request.components(separatedBy: "\r\n")
        #expect(lines.first == "POST /v1/chat/completions HTTP/1.1")
        #expect(lines.contains("Content-Length: \(Self.chat.utf8.count)"))
        #expect(!request.lowercased().contains("transfer-encoding"))
        #expect(!request.lowercased().contains("authorization"))
        #expect(request.hasSuffix("\r\n\r\n\(Self.chat)"), "the body, exactly, and nothing after it")
        connection.answer(on: upstream, Self.jsonAnswer(id: "chatcmpl-embedded"))
        let answer = try connection.output()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.hasSuffix(#"{"id":"chatcmpl-embedded","object":"chat.completion","choices":[]}"#))
        #expect(connection.services.notary.lookup("chatcmpl-embedded") == nil, "not before the client's next move")
        connection.advance(by: FastPathRouter.deliveryGrace)
        #expect(connection.services.notary.lookup("chatcmpl-embedded") != nil, "published once delivery is confirmed")
        #expect(connection.services.metrics.value(.signaturesStored) == 1)
    }

    @Test("GET /v1/models goes upstream as a head alone: no length, no coding, no body")
    func modelsCarryNoBody() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        let request = try connection.sent(on: upstream)
        #expect(request.hasPrefix("GET /v1/models HTTP/1.1\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))
        #expect(request.components(separatedBy: "\r\n\r\n").count == 2, "one head, nothing after it")
        #expect(!request.lowercased().contains("content-length"))
        #expect(!request.lowercased().contains("transfer-encoding"))
    }

    @Test("bytes an idle upstream connection sends retire it; the next request opens a new one")
    func unsolicitedBytesRetireTheConnection() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.auth)Content-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)"
        connection.send(request)
        connection.loop.run()
        let first = try #require(connection.upstreams.first)
        _ = try connection.sent(on: first)
        connection.answer(on: first, Self.jsonAnswer(id: "chatcmpl-one"))
        #expect(try connection.output().contains("chatcmpl-one"))
        // A second, unasked-for answer on the now idle connection.
        connection.answer(on: first, Self.jsonAnswer(id: "chatcmpl-smuggled"))
        connection.loop.run()
        #expect(!first.isActive)
        connection.send(request)
        connection.loop.run()
        #expect(connection.upstreams.count == 2)
        let second = try #require(connection.upstreams.last)
        _ = try connection.sent(on: second)
        connection.answer(on: second, Self.jsonAnswer(id: "chatcmpl-two"))
        let answer = try connection.output()
        #expect(answer.contains("chatcmpl-two"))
        #expect(!answer.contains("smuggled"))
        #expect(connection.services.notary.lookup("chatcmpl-smuggled") == nil)
    }

    @Test("an event stream whose upstream dies before its first event is a 502, not an empty answer")
    func streamDeadBeforeFirstByte() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.auth)Content-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)")
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        connection.answer(on: upstream, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(try connection.output().isEmpty, "the head waits for the first event")
        upstream.pipeline.fireChannelInactive()
        connection.loop.run()
        let answer = try connection.output()
        #expect(answer.hasPrefix("HTTP/1.1 502"), "\(answer)")
        #expect(answer.contains(#""type":"upstream_error""#))
    }

    @Test("after the last write, the client's next request publishes at once; a reset within the grace drops")
    func deliveryConfirmation() throws {
        let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.auth)Content-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)"

        let next = try EmbeddedConnection()
        defer { next.finish() }
        next.send(request)
        next.loop.run()
        next.answer(on: try #require(next.upstreams.first), Self.jsonAnswer(id: "chatcmpl-read"))
        #expect(try next.output().hasPrefix("HTTP/1.1 200"))
        #expect(next.services.notary.lookup("chatcmpl-read") == nil)
        next.send("GET /v1/sig")  // the first bytes of its next request
        #expect(next.services.notary.lookup("chatcmpl-read") != nil)

        let reset = try EmbeddedConnection()
        defer { reset.finish() }
        reset.send(request)
        reset.loop.run()
        reset.answer(on: try #require(reset.upstreams.first), Self.jsonAnswer(id: "chatcmpl-unread"))
        #expect(try reset.output().hasPrefix("HTTP/1.1 200"))
        reset.channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read"))
        reset.advance(by: FastPathRouter.deliveryGrace)
        #expect(reset.services.notary.lookup("chatcmpl-unread") == nil)
        #expect(reset.services.metrics.value(.signaturesDroppedUndelivered) == 1)

        // A FIN alone decides nothing (a reset for bytes that reached a closed socket may follow it).
        for resetFollows in [false, true] {
            let closed = try EmbeddedConnection()
            defer { closed.finish() }
            closed.send(request)
            closed.loop.run()
            closed.answer(on: try #require(closed.upstreams.first), Self.jsonAnswer(id: "chatcmpl-fin"))
            _ = try closed.output()
            closed.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            #expect(closed.services.notary.lookup("chatcmpl-fin") == nil)
            #expect(closed.isActive, "held open until the delivery is decided")
            if resetFollows { closed.channel.pipeline.fireErrorCaught(IOError(errnoCode: ECONNRESET, reason: "read")) }
            closed.advance(by: FastPathRouter.deliveryGrace)
            #expect((closed.services.notary.lookup("chatcmpl-fin") != nil) == !resetFollows)
            #expect(!closed.isActive)
        }
    }

    @Test("a lookup for a record still being published waits for it: 200 once published, 404 once dropped")
    func lookupWaitsForPublication() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let notary = connection.services.notary
        let hash = String(repeating: "ab", count: 32)
        let lookup = "GET /v1/signature/chatcmpl-pending HTTP/1.1\r\nHost: x\r\n\(Self.auth)\r\n"

        let published = try #require(notary.prepare(chatID: "chatcmpl-pending", requestHash: hash, responseHash: hash, logger: connection.services.logger))
        connection.send(lookup)
        #expect(try connection.output().isEmpty, "no 404 while the answer's last bytes are being written")
        connection.advance(by: .milliseconds(20))
        #expect(try connection.output().isEmpty)
        notary.publish(published, logger: connection.services.logger)
        connection.advance(by: .milliseconds(50))
        #expect(try connection.output().hasPrefix("HTTP/1.1 200"))

        let dropped = try #require(notary.prepare(chatID: "chatcmpl-dropped", requestHash: hash, responseHash: hash, logger: connection.services.logger))
        connection.send(lookup.replacingOccurrences(of: "pending", with: "dropped"))
        connection.advance(by: .milliseconds(20))
        #expect(try connection.output().isEmpty)
        notary.drop(dropped)
        connection.advance(by: .milliseconds(50))
        #expect(try connection.output().hasPrefix("HTTP/1.1 404"))

        // Without a token nothing waits; and a record never resolved is 404 after the bounded wait.
        _ = try #require(notary.prepare(chatID: "chatcmpl-stuck", requestHash: hash, responseHash: hash, logger: connection.services.logger))
        connection.send("GET /v1/signature/chatcmpl-stuck HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.output().hasPrefix("HTTP/1.1 401"))
        connection.send(lookup.replacingOccurrences(of: "pending", with: "stuck"))
        connection.advance(by: ProxyExchange.publicationWait - .milliseconds(100))
        #expect(try connection.output().isEmpty)
        connection.advance(by: .milliseconds(200))
        #expect(try connection.output().hasPrefix("HTTP/1.1 404"))
    }

    @Test("a stream whose client leaves before the end is never signed")
    func departedStreamClient() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.auth)Content-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)")
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        let event = #"data: {"id":"chatcmpl-gone","choices":[]}"# + "\n\n"
        connection.answer(
            on: upstream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + String(event.utf8.count, radix: 16) + "\r\n\(event)\r\n")
        #expect(try connection.output().contains("chatcmpl-gone"))
        connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        connection.loop.run()
        let done = "data: [DONE]\n\n"
        connection.answer(on: upstream, String(done.utf8.count, radix: 16) + "\r\n\(done)\r\n0\r\n\r\n")
        #expect(!upstream.isActive, "the upstream request was cancelled")
        #expect(connection.services.notary.lookup("chatcmpl-gone") == nil)
        #expect(connection.services.metrics.value(.clientDisconnects) == 1)
    }
}
