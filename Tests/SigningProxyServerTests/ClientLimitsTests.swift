import NIOCore
import Testing

@testable import SigningProxyServer

/// What a client can make one connection do, checked on an `EmbeddedChannel` with a controlled clock:
/// bodies refused before they are read, parse errors inside bodies, 100-continue, and each timeout.
@Suite("Client limits: bodies, parse errors, 100-continue and timeouts (no sockets)")
struct ClientLimitsTests {
    static let token = "Authorization: Bearer test-token\r\n"

    @Test(
        "a body on a route that takes none is refused at its head, before a byte of it is read",
        arguments: [
            ("GET /v1/models", "HTTP/1.1 400"),
            ("GET /v1/signature/chatcmpl-1", "HTTP/1.1 400"),
            ("DELETE /v1/chat/completions", "HTTP/1.1 405"),
            ("GET /health", "HTTP/1.1 400"),
            ("PUT /v1/not-a-route", "HTTP/1.1 404"),
        ])
    func bodyOnBodilessRoute(requestLine: String, status: String) throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        // No token, a 10 MB body announced: the answer comes before any of it.
        connection.send("\(requestLine) HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n")
        let answer = try connection.output()
        #expect(answer.hasPrefix(status), "\(answer)")
        #expect(answer.lowercased().contains("connection: close"))
        #expect(answer.contains(#""error":{"#))
        // What the client still sends is dropped, never answered or held, and the connection closes
        // once the linger time has passed.
        connection.send([UInt8](repeating: 0x41, count: 1 << 20))
        #expect(try connection.output().isEmpty)
        #expect(connection.services.live.exchanges.load(ordering: .relaxed) == 0)
        connection.advance(by: FastPathRouter.lingerTimeout + .milliseconds(1))
        #expect(!connection.isActive)
    }

    @Test("the same routes without a body are served as before, and keep the connection")
    func bodilessRouteWithoutBody() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send("GET /v1/signature/chatcmpl-1 HTTP/1.1\r\nHost: x\r\n\(Self.token)Content-Length: 0\r\n\r\n")
        let answer = try connection.output()
        #expect(answer.hasPrefix("HTTP/1.1 404"))
        #expect(!answer.lowercased().contains("connection: close"))
        #expect(connection.isActive)
    }

    @Test("a completion without a valid token is refused at its head when it carries a body")
    func unauthenticatedCompletionBody() throws {
        for auth in ["", "Authorization: Bearer wrong\r\n"] {
            let connection = try EmbeddedConnection()
            defer { connection.finish() }
            connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 5000000\r\n\r\n")
            let answer = try connection.output()
            #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer)")
            #expect(answer.lowercased().contains("connection: close"))
        }
    }

    @Test("a body over the limit is refused at its declared length, or as soon as a chunked one outgrows it")
    func oversizedBodies() throws {
        let declared = try EmbeddedConnection { $0.maxRequestSize = 1000 }
        defer { declared.finish() }
        declared.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.token)Content-Length: 1001\r\n\r\n")
        #expect(try declared.output().hasPrefix("HTTP/1.1 413"))

        let chunked = try EmbeddedConnection { $0.maxRequestSize = 1000 }
        defer { chunked.finish() }
        chunked.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.token)Transfer-Encoding: chunked\r\n\r\n")
        chunked.send("258\r\n" + String(repeating: "a", count: 600) + "\r\n")
        #expect(try chunked.output().isEmpty, "600 bytes are within the limit")
        chunked.send("258\r\n" + String(repeating: "a", count: 600) + "\r\n")
        let answer = try chunked.output()
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer)")
        #expect(answer.lowercased().contains("connection: close"))
    }

    @Test("Expect: 100-continue is answered for an acceptable request, and never for a refused one")
    func expectContinue() throws {
        let accepted = try EmbeddedConnection()
        defer { accepted.finish() }
        accepted.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.token)Expect: 100-continue\r\nContent-Length: 2000000\r\n\r\n")
        #expect(try accepted.output() == "HTTP/1.1 100 Continue\r\n\r\n")

        let refused = try EmbeddedConnection()
        defer { refused.finish() }
        refused.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n")
        let answer = try refused.output()
        #expect(answer.hasPrefix("HTTP/1.1 401"))
        #expect(!answer.contains("100 Continue"))
    }

    @Test(
        "bytes inside a request body that are not HTTP get a 400 envelope and a close",
        arguments: [
            "zz\r\nhello\r\n0\r\n\r\n",  // a chunk size that is not hex
            "5\nhello\n0\n\n",  // LF-only chunk lines
            "fffffffffffffffffffff\r\nx\r\n",  // a chunk size that overflows
            "5\r\nhelloXX0\r\n\r\n",  // chunk data longer than its size
        ])
    func parseErrorInBody(chunks: String) throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.token)Transfer-Encoding: chunked\r\n\r\n")
        connection.send(chunks)
        let answer = try connection.output()
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer.debugDescription)")
        #expect(answer.lowercased().contains("connection: close"))
        #expect(answer.contains(#""type":"bad_request""#))
        connection.advance(by: FastPathRouter.lingerTimeout + .milliseconds(1))
        #expect(!connection.isActive)
        #expect(connection.services.live.exchanges.load(ordering: .relaxed) == 0)
    }

    @Test("a head that arrives too slowly is answered 408 and closed; a silent new connection is closed")
    func headerTimeout() throws {
        let slow = try EmbeddedConnection { $0.headerTimeout = .seconds(10) }
        defer { slow.finish() }
        slow.send("GET /v1/mod")
        slow.advance(by: .seconds(9))
        slow.send("els HTTP/1.1\r\nHo")
        #expect(try slow.output().isEmpty)
        #expect(slow.isActive)
        slow.advance(by: .seconds(1))
        let answer = try slow.output()
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(answer.lowercased().contains("connection: close"))
        #expect(slow.services.metrics.value(.clientTimeouts) == 1)

        let silent = try EmbeddedConnection { $0.headerTimeout = .seconds(10) }
        defer { silent.finish() }
        silent.advance(by: .seconds(10))
        #expect(!silent.isActive)
        #expect(try silent.output().isEmpty)
    }

    @Test("an idle keep-alive connection closes after the keep-alive timeout; a later head gets its own header timeout")
    func keepAliveTimeout() throws {
        let connection = try EmbeddedConnection {
            $0.headerTimeout = .seconds(5)
            $0.keepAliveTimeout = .seconds(30)
        }
        defer { connection.finish() }
        let request = "GET /v1/signature/chatcmpl-1 HTTP/1.1\r\nHost: x\r\n\(Self.token)\r\n"
        connection.send(request)
        #expect(try connection.output().hasPrefix("HTTP/1.1 404"))
        // Idle longer than the header timeout but within the keep-alive timeout: still open.
        connection.advance(by: .seconds(20))
        #expect(connection.isActive)
        connection.send(request)
        #expect(try connection.output().hasPrefix("HTTP/1.1 404"))
        // Bytes of a third request start its header clock.
        connection.advance(by: .seconds(20))
        connection.send("GET /v1/sig")
        connection.advance(by: .seconds(4))
        #expect(connection.isActive)
        connection.advance(by: .seconds(1))
        #expect(try connection.output().hasPrefix("HTTP/1.1 408"))

        let idle = try EmbeddedConnection { $0.keepAliveTimeout = .seconds(30) }
        defer { idle.finish() }
        idle.send(request)
        _ = try idle.output()
        idle.advance(by: .seconds(29))
        #expect(idle.isActive)
        idle.advance(by: .seconds(1))
        #expect(!idle.isActive)
        #expect(try idle.output().isEmpty, "an idle close sends nothing")
    }

    @Test("a body slower than the minimum rate is answered 408 and closed; one at the rate is not")
    func bodyMinimumRate() throws {
        let configure: (inout ProxyConfiguration) -> Void = {
            $0.bodyTimeout = .seconds(10)
            $0.bodyMinRate = 1000
        }
        let slow = try EmbeddedConnection(configure: configure)
        defer { slow.finish() }
        slow.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.token)Content-Length: 100000\r\n\r\n")
        slow.send(String(repeating: "a", count: 2000))  // pays for 2 s beyond the 10 s allowance
        slow.advance(by: .seconds(11))
        #expect(slow.isActive)
        slow.advance(by: .seconds(1))
        let answer = try slow.output()
        #expect(answer.hasPrefix("HTTP/1.1 408"), "\(answer)")
        #expect(slow.services.live.exchanges.load(ordering: .relaxed) == 0)

        let steady = try EmbeddedConnection(configure: configure)
        defer { steady.finish() }
        steady.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\(Self.token)Content-Length: 100000\r\n\r\n")
        for _ in 0..<30 {
            steady.send(String(repeating: "a", count: 1000))
            steady.advance(by: .seconds(1))
        }
        #expect(steady.isActive)
        #expect(try steady.output().isEmpty)
    }

    @Test("the connection cap never exceeds half the open-file limit")
    func capWithinFileLimit() {
        let allowance = ConnectionLimiter.fileLimitAllowance()
        #expect(ConnectionLimiter(limit: Int.max).limit == allowance)
        #expect(ConnectionLimiter(limit: 3).limit == min(3, allowance))
        #expect(ConnectionLimiter(limit: Int.max).requested == Int.max)
    }

    @Test("pipelined requests after a refused one are never answered")
    func nothingAfterRefusal() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(
            "GET /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\nGET /v1/signature/a HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /v1/signature/b HTTP/1.1\r\nHost: x\r\n\(Self.token)\r\n")
        let answer = try connection.output()
        #expect(answer.hasPrefix("HTTP/1.1 400"))
        #expect(answer.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer only: \(answer)")
    }
}
