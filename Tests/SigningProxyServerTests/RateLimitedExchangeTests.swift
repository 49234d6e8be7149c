import NIOCore
import Testing

@testable import SigningProxyServer

/// Rate limits on the fast path (docs/API.md, Rate limits), on `EmbeddedChannel`: 429 in the route's
/// envelope with `Retry-After`, per token, per address for the models list, and per-token concurrency
/// across connections.
@Suite("Rate limits on the fast path: 429 with Retry-After, per token, per address, concurrency")
struct RateLimitedExchangeTests {
    static func lookup(_ token: String) -> String {
        "GET /v1/signature/chatcmpl-x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\n\r\n"
    }

    static func status(_ output: String) -> Int? {
        Int(output.split(separator: " ", maxSplits: 2).dropFirst().first ?? "")
    }

    @Test("past its burst a token gets 429 with Retry-After; another token and unauthenticated lookups are not spent")
    func perToken() throws {
        let connection = try EmbeddedConnection {
            $0.tokens = ["test-token", "other-token"]
            $0.rateLimits = RateLimitSettings(perSecond: 1, burst: 2)
        }
        defer { connection.finish() }
        for _ in 0..<2 {
            connection.send(Self.lookup("test-token"))
            #expect(Self.status(try connection.output()) == 404)
        }
        connection.send(Self.lookup("test-token"))
        let limited = try connection.output()
        #expect(Self.status(limited) == 429, "\(limited)")
        #expect(limited.contains("Retry-After: 1\r\n"))
        #expect(limited.contains(#""type":"rate_limit_exceeded""#))
        #expect(connection.services.metrics.value(.rateLimited) == 1)
        connection.send(Self.lookup("other-token"))
        #expect(Self.status(try connection.output()) == 404)
        connection.send(Self.lookup("wrong"))
        #expect(Self.status(try connection.output()) == 401)
        // A second later the bucket has one token again.
        connection.advance(by: .seconds(1))
        connection.send(Self.lookup("test-token"))
        #expect(Self.status(try connection.output()) == 404)
    }

    @Test("a limited completion is refused before its body is read or anything goes upstream, in its route's envelope")
    func completion() throws {
        let connection = try EmbeddedConnection { $0.rateLimits = RateLimitSettings(perSecond: 0.5, burst: 1) }
        defer { connection.finish() }
        connection.send(Self.lookup("test-token"))
        _ = try connection.output()
        let body = #"{"model":"tiny","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}"#
        connection.send(
            "POST /v1/messages HTTP/1.1\r\nHost: x\r\nx-api-key: test-token\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        connection.loop.run()
        let limited = try connection.output()
        #expect(Self.status(limited) == 429, "\(limited)")
        #expect(limited.contains("Retry-After: 2\r\n"))
        #expect(limited.contains(#""type":"rate_limit_error""#), "Anthropic's envelope on /v1/messages")
        #expect(connection.upstreams.isEmpty)
    }

    @Test("the models list, which takes no token, is limited by the client's address")
    func perAddress() throws {
        let connection = try EmbeddedConnection { $0.rateLimits = RateLimitSettings(perSecond: 1, burst: 1) }
        defer { connection.finish() }
        connection.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        _ = try connection.sent(on: upstream)
        let models = #"{"object":"list","data":[]}"#
        connection.answer(on: upstream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(models.utf8.count)\r\n\r\n\(models)")
        #expect(Self.status(try connection.output()) == 200)
        connection.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        connection.loop.run()
        #expect(Self.status(try connection.output()) == 429)
        #expect(connection.upstreams.count == 1)
    }

    @Test("a token's requests in flight are bounded across connections, and the place is free once an answer ends")
    func concurrency() throws {
        let limiter = RateLimiter(settings: RateLimitSettings(perSecond: 1000, burst: 1000, maxConcurrent: 1))
        let first = try EmbeddedConnection(rateLimiter: limiter)
        defer { first.finish() }
        let second = try EmbeddedConnection(rateLimiter: limiter)
        defer { second.finish() }
        let body = #"{"model":"tiny","stream":true,"messages":[]}"#
        let request = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        first.send(request)
        first.loop.run()
        let upstream = try #require(first.upstreams.first)
        _ = try first.sent(on: upstream)
        #expect(limiter.inFlight(token: 0) == 1)
        second.send(request)
        second.loop.run()
        #expect(Self.status(try second.output()) == 429)
        first.answer(
            on: upstream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 38\r\n\r\ndata: {\"id\":\"chatcmpl-c1\"}\n\ndata: [DONE]\n\n")
        #expect(Self.status(try first.output()) == 200)
        #expect(limiter.inFlight(token: 0) == 0)
    }
}
