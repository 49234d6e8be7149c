import Foundation
import MockVLLM
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import SigningProxyServer

@Suite("Fast path: routing, ordering and upstream connection reuse")
struct FastPathTests {
    static let chat = #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":3}"#
    static let streamedChat = #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"stream":true}"#

    @Test("pipelined requests are answered in order, across fast-path and general routes")
    func pipelining() async throws {
        try await ProxyHarness.run { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            let requests =
                RawHTTP.post("/v1/chat/completions", body: Self.chat)
                + RawHTTP.get("/health")
                + RawHTTP.post("/v1/chat/completions", body: Self.streamedChat)
                + RawHTTP.get("/v1/models")
                + RawHTTP.get("/version", close: true)
            let answer = try await RawHTTP.exchange(port: port, bytes: requests)
            let text = String(decoding: answer, as: UTF8.self)
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 6)
            let markers = [#""object":"chat.completion""#, #"{"status":"ok"}"#, "data: [DONE]", #""object":"list""#, #""type":"proxy""#]
            var position = text.startIndex
            for marker in markers {
                let found = try #require(text.range(of: marker, range: position..<text.endIndex), "\(marker) missing or out of order")
                position = found.upperBound
            }
        }
    }

    @Test("a fast-path URL with another method is 405; query strings and trailing slashes still route")
    func methodsAndPaths() async throws {
        try await ProxyHarness.run { harness in
            for (method, path) in [(HTTPMethod.GET, "/v1/chat/completions"), (.PUT, "/v1/completions"), (.POST, "/v1/models")] {
                try expectEnvelope(
                    try await harness.send(method, path), status: 405, type: "method_not_allowed", message: "Method not allowed")
            }
            let models = try await harness.send(.GET, "/v1/models/?x=1")
            #expect(models.status == 200)
            let answer = try await harness.send(.POST, "/v1/chat/completions/?trace=1", body: Array(Self.chat.utf8))
            #expect(answer.status == 200)
            #expect(try answer.json()["object"] as? String == "chat.completion")
            // HEAD gets the headers of the answer and no body, and the connection stays usable.
            let port = try #require(URL(string: harness.proxyURL)?.port)
            let head = try await RawHTTP.exchange(
                port: port, bytes: Array("HEAD /v1/models HTTP/1.1\r\nHost: x\r\n\r\n".utf8) + RawHTTP.get("/health", close: true))
            let text = String(decoding: head, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 405"))
            #expect(text.contains(#"{"status":"ok"}"#))
            #expect(!text.contains("method_not_allowed"))
        }
    }

    @Test("a kept-alive upstream connection that closes under a request is retried once on a new one")
    func staleConnectionRetry() async throws {
        try await QuirkyUpstream.withProxy { upstream, harness in
            for round in 0..<3 {
                let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(Self.chat.utf8))
                #expect(answer.status == 200, "round \(round)")
                #expect(try answer.json()["id"] as? String == "chatcmpl-quirky-\(round)")
            }
            // Rounds 2 and 3 each found the pooled connection dead on arrival and opened another.
            #expect(upstream.state.withLock { $0.connections } == 3)
            #expect(upstream.state.withLock { $0.answered } == 3)
        }
    }

    @Test("an upstream that answers with Connection: close is not reused, and every request still succeeds")
    func upstreamConnectionClose() async throws {
        try await QuirkyUpstream.withProxy(.closeEach) { upstream, harness in
            for _ in 0..<3 {
                let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(Self.chat.utf8))
                #expect(answer.status == 200)
            }
            #expect(upstream.state.withLock { $0.connections } == 3)
        }
    }

    @Test("signature lookups: percent-encoded ids, query parsing, 405 for other methods, 404 past one component")
    func signatureRoute() async throws {
        try await ProxyHarness.run { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(Self.chat.utf8))
            let id = try #require(try answer.json()["id"] as? String)
            let encoded = id.replacingOccurrences(of: "-", with: "%2D")
            for path in ["/v1/signature/\(encoded)", "/v1/signature/\(id)?x=1&signing_algo=ed%32%35519&signing_algo=ecdsa"] {
                let lookup = try await harness.send(.GET, path)
                #expect(lookup.status == 200, "\(path)")
                let algorithm = try lookup.json()["signing_algo"] as? String
                #expect(algorithm == (path.contains("ed%32") ? "ed25519" : "ecdsa"))
            }
            try expectEnvelope(try await harness.send(.POST, "/v1/signature/\(id)"), status: 405, type: "method_not_allowed")
            try expectEnvelope(try await harness.send(.GET, "/v1/signature/\(id)/extra"), status: 404, type: "not_found")
            try expectEnvelope(try await harness.send(.GET, "/v1/signature/%zz"), status: 404, type: "not_found")
        }
    }

    @Test("a graceful shutdown lets a stream in flight finish, [DONE] included")
    func shutdownDuringStream() async throws {
        var mock = MockVLLMConfiguration()
        mock.tokens = 12
        mock.delay = .milliseconds(40)
        try await ProxyHarness.run(mock: mock) { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            let body = #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":12,"stream":true}"#
            async let answer = RawHTTP.exchange(port: port, bytes: RawHTTP.post("/v1/chat/completions", body: body))
            // Shut down once the stream is under way (12 events, 40 ms apart).
            #expect(await harness.stats.waitUntil(timeout: .seconds(10)) { $0.streamsStarted == 1 })
            try await Task.sleep(for: .milliseconds(80))
            #expect(harness.stats.snapshot.streamsCompleted == 0)
            await harness.shutdown()
            let text = String(decoding: try await answer, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.contains("data: [DONE]"))
            #expect(text.hasSuffix("0\r\n\r\n"), "the chunked body ends properly")
        }
    }

    @Test("a kept-alive connection that only used the fast path is closed by a graceful shutdown")
    func shutdownClosesFastPathOnlyConnections() async throws {
        try await ProxyHarness.run { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            // No Connection: close, so only the shutdown ends this connection (and the read).
            async let answer = RawHTTP.exchange(port: port, bytes: RawHTTP.get("/v1/models"))
            #expect(await harness.stats.waitUntil(timeout: .seconds(10)) { $0.requests >= 1 })
            try await Task.sleep(for: .milliseconds(50))
            await harness.shutdown()
            let text = String(decoding: try await answer, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.contains(#""object":"list""#))
        }
    }

    @Test("bytes that are not HTTP get a 400 envelope and the connection is closed")
    func parseErrors() async throws {
        try await ProxyHarness.run { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            for garbage in ["GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"] {
                let text = String(decoding: try await RawHTTP.exchange(port: port, bytes: Array(garbage.utf8)), as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 400"), "\(garbage)")
                #expect(text.contains(#""type":"bad_request""#))
            }
            // After a fast-path request the same holds (the general router is still not set up).
            let text = String(
                decoding: try await RawHTTP.exchange(port: port, bytes: RawHTTP.get("/v1/models") + Array("\u{1}\u{2}\r\n\r\n".utf8)),
                as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.contains("HTTP/1.1 400"))
        }
    }

    @Test("an upstream that goes silent mid-stream is cut after the idle limit; the client sees a truncated body")
    func silentMidStream() async throws {
        var mock = MockVLLMConfiguration()
        mock.tokens = 4
        mock.delay = .seconds(6)
        // The limit leaves room for a loaded machine between vLLM's head and its first event (a stream
        // silent before its first event is a 504, not a cut).
        try await ProxyHarness.run(mock: mock, configure: { $0.upstreamTimeout = .milliseconds(1500) }) { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            let started = ContinuousClock.now
            let text = String(decoding: try await RawHTTP.exchange(port: port, bytes: RawHTTP.post("/v1/chat/completions", body: Self.streamedChat)), as: UTF8.self)
            #expect(ContinuousClock.now - started < .seconds(6))
            #expect(text.hasPrefix("HTTP/1.1 200 OK"))
            #expect(text.contains("data: {"))
            #expect(!text.contains("[DONE]"))
            #expect(!text.hasSuffix("0\r\n\r\n"), "no terminating chunk")
            let metrics = try await harness.send(.GET, "/metrics")
            #expect(metrics.text.contains("signing_proxy_upstream_cut_mid_stream_total 1"))
            #expect(metrics.text.contains("signing_proxy_signatures_stored_total 0"))
        }
    }

    @Test("percent-decoding and query values")
    func percentDecoding() {
        #expect(PercentDecoding.decode(Array("a%2Db%20c".utf8)) == "a-b c")
        #expect(PercentDecoding.decode(Array("a+b".utf8)) == "a+b")
        #expect(PercentDecoding.decode(Array("a+b".utf8), plusIsSpace: true) == "a b")
        #expect(PercentDecoding.decode(Array("%e2%82%ac".utf8)) == "€")
        for bad in ["%", "%2", "%zz", "%ff", "%c3"] {
            #expect(PercentDecoding.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
        #expect(FastPathServices.queryValue("signing_algo", in: "/x?signing_algo=ed25519") == "ed25519")
        #expect(FastPathServices.queryValue("signing_algo", in: "/x?a=1&&signing%5Falgo=e+d#frag") == "e d")
        #expect(FastPathServices.queryValue("signing_algo", in: "/x?signing_algo") == "")
        #expect(FastPathServices.queryValue("signing_algo", in: "/x") == nil)
    }

    @Test("upstream base URLs parse into host, port, TLS and path prefix; bad ones are refused")
    func upstreamTargets() throws {
        let plain = try #require(UpstreamTarget(baseURL: "http://vllm:8000"))
        #expect(plain.host == "vllm" && plain.port == 8000 && !plain.usesTLS && plain.basePath == "" && plain.hostHeader == "vllm:8000")
        let tls = try #require(UpstreamTarget(baseURL: "HTTPS://Example.org/prefix/"))
        #expect(tls.port == 443 && tls.usesTLS && tls.basePath == "/prefix" && tls.hostHeader == "Example.org")
        let v6 = try #require(UpstreamTarget(baseURL: "http://[::1]:9000"))
        #expect(v6.host == "::1" && v6.port == 9000 && v6.hostHeader == "[::1]:9000")
        var configuration = ProxyConfiguration()
        configuration.modelName = "tiny"
        configuration.tokens = ["t"]
        for bad in ["vllm:8000", "ftp://x", "http://", "http://:80", "http://h:0", "http://h:99999", "http://h:x", "http://u@h", "http://[::1"] {
            #expect(UpstreamTarget(baseURL: bad) == nil, "\(bad)")
            // serve refuses to start with it rather than answering 502 to every request.
            configuration.upstream = bad
            #expect(throws: ConfigurationError.self, "\(bad)") { try configuration.validate() }
        }
        configuration.upstream = "http://vllm:8000/"
        #expect(throws: Never.self) { try configuration.validate() }
    }
}

/// Blocking loopback socket I/O for the tests that need exact bytes on the wire.
enum RawHTTP {
    static func get(_ path: String, close: Bool = false) -> [UInt8] {
        Array("GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\n\(close ? "Connection: close\r\n" : "")\r\n".utf8)
    }

    static func post(_ path: String, body: String) -> [UInt8] {
        Array(
            "POST \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                .utf8)
    }

    /// How a test client reads: all at once, or like a slow or departing reader.
    struct Reading: Sendable {
        /// `SO_RCVBUF` set before connecting (small values make the server wait on the reader).
        var receiveBuffer: Int32?
        /// Bytes per `recv` call.
        var chunk = 65536
        /// Pause after each `recv`.
        var pause: Duration?
        /// Close after this many bytes instead of reading to the end.
        var stopAfter: Int?

        static let all = Reading()
    }

    /// Writes `bytes` in one go and reads until the server closes (10 s at most without data).
    ///
    /// The socket calls block, so each exchange runs on a thread of its own: blocking a cooperative-pool
    /// thread would starve the in-process servers, and NIO's small shared thread pool would make one
    /// test's slow reader delay another test's clock.
    static func exchange(port: Int, bytes: [UInt8], reading: Reading = .all) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingExchange(port: port, bytes: bytes, reading: reading) })
            }
        }
    }

    private static func blockingExchange(port: Int, bytes: [UInt8], reading: Reading) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError() }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = reading.receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw RawHTTPError() }
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard written > 0 else { throw RawHTTPError() }
            sent += written
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: reading.chunk)
        while received.count < reading.stopAfter ?? Int.max {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw RawHTTPError() }
            received += chunk[..<count]
            if let pause = reading.pause {
                let (seconds, attoseconds) = pause.components
                var wait = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
                nanosleep(&wait, nil)
            }
        }
        return received
    }
}

struct RawHTTPError: Error {}
