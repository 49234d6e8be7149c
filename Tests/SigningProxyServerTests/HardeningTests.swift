import Foundation
import MockVLLM
import NIOCore
import NIOPosix
import SigningCore
import Testing

@testable import SigningProxyServer

/// Regression tests for the attacks an adversarial client or upstream can mount, over loopback:
/// request smuggling, per-connection leaks, the connection cap, and signatures for bytes that were
/// never delivered.
@Suite("Hardening: smuggling, leaks, connection cap, delivery before publication")
struct HardeningTests {
    static let chat = #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":3}"#

    @Test("a GET /v1/models carrying a request in its body is refused, and the upstream never sees a second request")
    func smuggledRequestInModelsBody() async throws {
        try await ProxyHarness.run { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            let smuggled = "POST /v1/chat/completions HTTP/1.1\r\nHost: vllm\r\nContent-Type: application/json\r\nContent-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)"
            for framing in ["Content-Length: \(smuggled.utf8.count)", "Transfer-Encoding: chunked"] {
                let body = framing.hasPrefix("Transfer") ? String(smuggled.utf8.count, radix: 16) + "\r\n" + smuggled + "\r\n0\r\n\r\n" : smuggled
                let attack = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\(framing)\r\n\r\n\(body)"
                let text = String(decoding: try await RawHTTP.exchange(port: port, bytes: Array(attack.utf8)), as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 400"), "\(text)")
                #expect(text.components(separatedBy: "HTTP/1.1 ").count == 2, "one answer only")
            }
            #expect(harness.stats.snapshot.requests == 0, "nothing reached the upstream")
            // A victim's request afterwards gets its own answer, on what is now the only upstream request.
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(Self.chat.utf8))
            #expect(answer.status == 200)
            let id = try #require(try answer.json()["id"] as? String)
            #expect(harness.stats.snapshot.requests == 1)
            let signature = try await harness.signature(id)
            #expect(signature.status == 200)
            let text = try #require(try signature.json()["text"] as? String)
            #expect(text == StreamDigest.hex(of: ByteBuffer(string: Self.chat)) + ":" + StreamDigest.hex(of: ByteBuffer(bytes: answer.body)))
        }
    }

    @Test("an upstream answer that arrives on an idle pooled connection retires it; the next request gets its own answer")
    func unsolicitedUpstreamBytes() async throws {
        try await QuirkyUpstream.withProxy(.doubleAnswer) { upstream, harness in
            var ids: [String] = []
            for _ in 0..<3 {
                let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(Self.chat.utf8))
                #expect(answer.status == 200)
                ids.append(try #require(try answer.json()["id"] as? String))
                try await Task.sleep(for: .milliseconds(50))
            }
            // Each request used a fresh connection and got the first of its two answers.
            #expect(ids == ["chatcmpl-quirky-0", "chatcmpl-quirky-2", "chatcmpl-quirky-4"])
            #expect(upstream.state.withLock { $0.connections } == 3)
        }
    }

    @Test("thousands of connect/close cycles of every kind leave no router, exchange or upstream connection alive")
    func noPerConnectionLeak() async throws {
        try await ProxyHarness.run { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            let live = harness.proxy.upstream.pools.live
            let kinds: [[UInt8]] = [
                [],  // connect and close
                RawHTTP.get("/health", close: true),
                RawHTTP.get("/v1/models", close: true),
                Array("GET /v1/models HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".utf8),
                Array("NOT HTTP\r\n\r\n".utf8),
                Array("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\nConnection: close\r\nContent-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)".utf8),
            ]
            for round in 0..<300 {
                // A signed answer on a closing connection closes only once its delivery is decided
                // (up to 200 ms): one round in ten has the completion.
                for bytes in round % 10 == 0 ? kinds : kinds.dropLast() {
                    _ = try await RawHTTP.exchange(port: port, bytes: bytes, reading: bytes.isEmpty ? .init(stopAfter: 0) : .all)
                }
                if round % 100 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            }
            // Closing runs on the loops; give them a moment, boundedly.
            let deadline = ContinuousClock.now + .seconds(10)
            while live.routers.load(ordering: .relaxed) > 0 || live.exchanges.load(ordering: .relaxed) > 0,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(live.routers.load(ordering: .relaxed) == 0)
            #expect(live.exchanges.load(ordering: .relaxed) == 0)
            // Only the pool's idle connections may remain, and after a shutdown none do.
            await harness.proxy.upstream.pools.shutdown()
            let upstreamDeadline = ContinuousClock.now + .seconds(10)
            while live.upstreamConnections.load(ordering: .relaxed) > 0, ContinuousClock.now < upstreamDeadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(live.upstreamConnections.load(ordering: .relaxed) == 0)
        }
    }

    @Test("past the connection cap a client gets a 503 envelope at once; a freed slot serves again")
    func connectionCap() async throws {
        try await ProxyHarness.run(configure: { $0.maxConnections = 2 }) { harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            // Two connections held open by requests whose bodies never finish (non-blocking clients:
            // the blocking test client would tie up the thread pool the other tests share).
            let hold = ByteBuffer(string: "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-token\r\nContent-Length: 100\r\n\r\n{")
            var held: [any Channel] = []
            for _ in 0..<2 {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
                try await channel.writeAndFlush(hold)
                held.append(channel)
            }
            let deadline = ContinuousClock.now + .seconds(10)
            while harness.proxy.connections.count < 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let refused = String(decoding: try await RawHTTP.exchange(port: port, bytes: RawHTTP.get("/v1/models")), as: UTF8.self)
            #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
            #expect(refused.contains(#""type":"overloaded""#))
            #expect(refused.contains("Retry-After: 1"))
            #expect(harness.proxy.metrics.value(.connectionsRefused) >= 1)
            // A freed slot serves again.
            try await held.removeLast().close()
            let freed = ContinuousClock.now + .seconds(10)
            while harness.proxy.connections.count > 1, ContinuousClock.now < freed {
                try await Task.sleep(for: .milliseconds(10))
            }
            let served = String(decoding: try await RawHTTP.exchange(port: port, bytes: RawHTTP.get("/v1/models", close: true)), as: UTF8.self)
            #expect(served.hasPrefix("HTTP/1.1 200"), "\(served)")
            for channel in held { try await channel.close() }
        }
    }

    @Test("a slow reader on a closing connection receives every byte of a large answer, and only then is it signed")
    func slowReaderWithConnectionClose() async throws {
        try await QuirkyUpstream.withProxy(.largeAnswer(3_000_000)) { _, harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            var request = RawHTTP.post("/v1/chat/completions", body: Self.chat)
            request.insert(contentsOf: Array("Connection: close\r\n".utf8), at: request.count - Self.chat.utf8.count - 2)
            for attempt in 0..<3 {
                let reading = RawHTTP.Reading(receiveBuffer: 16384, chunk: 16384, pause: attempt == 0 ? .milliseconds(1) : nil)
                let received = try await RawHTTP.exchange(port: port, bytes: request, reading: reading)
                let text = String(decoding: received, as: UTF8.self)
                let split = try #require(text.range(of: "\r\n\r\n"))
                let head = text[..<split.lowerBound].lowercased()
                let length = try #require(head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }.flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) })
                let body = Array(received[(text.utf8.distance(from: text.startIndex, to: split.upperBound))...])
                #expect(body.count == length, "every byte arrived (attempt \(attempt))")
                let id = "chatcmpl-quirky-\(attempt)"
                let signature = try await harness.signature(id)
                #expect(signature.status == 200)
                let signed = try #require(try signature.json()["text"] as? String)
                #expect(signed.hasSuffix(":" + StreamDigest.hex(of: ByteBuffer(bytes: body))))
            }
        }
    }

    @Test("a client that leaves before the last byte of its answer gets no signature")
    func departedReaderIsNotSigned() async throws {
        // Larger than the kernel's socket buffers on both ends, so the final write cannot complete.
        try await QuirkyUpstream.withProxy(.largeAnswer(10_000_000), configure: { $0.maxUpstreamResponseSize = 16 << 20 }) { _, harness in
            let port = try #require(URL(string: harness.proxyURL)?.port)
            let request = RawHTTP.post("/v1/chat/completions", body: Self.chat)
            let received = try await RawHTTP.exchange(
                port: port, bytes: request, reading: .init(receiveBuffer: 16384, chunk: 16384, stopAfter: 100_000))
            #expect(received.count >= 100_000)
            let metrics = harness.proxy.metrics
            let deadline = ContinuousClock.now + .seconds(10)
            while metrics.value(.signaturesDroppedUndelivered) == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(metrics.value(.signaturesDroppedUndelivered) == 1)
            #expect(metrics.value(.signaturesStored) == 0)
            #expect(try await harness.signature("chatcmpl-quirky-0").status == 404)
        }
    }
}
