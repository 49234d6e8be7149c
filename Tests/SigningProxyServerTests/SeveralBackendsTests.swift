import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import SigningProxyServer

/// Several vLLM backends end to end (docs/API.md, "Several backends"): three `mock-vllm` processes on
/// loopback, two serving the chat model and one an embedding model, one chat backend killed and restarted.
/// Streams that received their first bytes.
final class StartedStreams: Sendable {
    let count = Atomic<Int>(0)
}

@Suite("Several backends over loopback", .serialized)
struct SeveralBackendsTests {
    private static func chat(stream: Bool, tokens: Int? = nil) -> [UInt8] {
        let limit = tokens.map { #","max_tokens":\#($0)"# } ?? ""
        return Array(#"{"model":"chat","messages":[{"role":"user","content":"hi"}],"stream":\#(stream)\#(limit)}"#.utf8)
    }

    /// The proxy's per-backend metric `name` for `backend`.
    private static func metric(_ harness: ProxyHarness, _ name: String, _ backend: String) async throws -> Int {
        let text = try await harness.send(.GET, "/metrics", headers: []).text
        let prefix = "\(name){backend=\"\(backend)\"} "
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(prefix) }, "no \(prefix) in /metrics")
        return try #require(Int(line.dropFirst(prefix.count)))
    }

    /// A streamed chat completion read as it comes; `cut` when the connection failed before its end.
    private static func stream(_ harness: ProxyHarness, started: StartedStreams) async throws -> (text: String, cut: Bool) {
        var request = HTTPClientRequest(url: harness.proxyURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(harness.token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(chat(stream: true))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status == .ok)
        var bytes: [UInt8] = []
        var cut = false
        do {
            for try await chunk in response.body {
                if bytes.isEmpty { started.count.add(1, ordering: .relaxed) }
                bytes += chunk.readableBytesView
            }
        } catch {
            cut = true
        }
        return (String(decoding: bytes, as: UTF8.self), cut)
    }

    /// The completion id of a stream's first event.
    private static func chatID(_ text: String) throws -> String {
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("data: {") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
        return try #require(object["id"] as? String)
    }

    @Test("Spread over two chat backends, routed by model, models united; a killed backend is avoided and comes back", .timeLimit(.minutes(1)))
    func killAndRestart() async throws {
        // 40 events 50 ms apart: a stream lasts 2 s, long enough to be cut.
        let paced = ["--delay-ms", "50", "--tokens", "40"]
        let chatA = try MockVLLMProcess.start(model: "chat", arguments: paced)
        let chatB = try MockVLLMProcess.start(model: "chat", arguments: paced)
        let embed = try MockVLLMProcess.start(model: "embed")
        let (urlA, urlB, urlE, portA) = (chatA.baseURL, chatB.baseURL, embed.baseURL, chatA.port)
        defer {
            chatA.crash()
            chatB.crash()
            embed.crash()
        }
        try await ProxyHarness.run(mock: nil) { configuration in
            configuration.backendURLs = [urlA, urlB]
            configuration.modelBackends = [
                .init(model: "chat", urls: [urlA, urlB]), .init(model: "embed", urls: [urlE]),
            ]
            configuration.backendProbeInterval = .milliseconds(200)
            configuration.backendProbeTimeout = .milliseconds(500)
        } _: { harness in
            // Spread: 20 at once over two idle backends.
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 { group.addTask { try await harness.send(.POST, "/v1/chat/completions", body: Self.chat(stream: false, tokens: 4)).status } }
                for try await status in group { #expect(status == 200) }
            }
            let sentA = try await Self.metric(harness, "signing_proxy_backend_requests_total", urlA)
            let sentB = try await Self.metric(harness, "signing_proxy_backend_requests_total", urlB)
            #expect(sentA + sentB == 20)
            #expect(sentA >= 5 && sentB >= 5, "spread \(sentA)/\(sentB)")

            // By model: the embedding model's backend serves it; another model goes to the default pool, whose vLLM answers 404.
            let embedding = try await harness.send(.POST, "/v1/embeddings", body: Array(#"{"model":"embed","input":"hello"}"#.utf8))
            #expect(embedding.status == 200)
            #expect(try await Self.metric(harness, "signing_proxy_backend_requests_total", urlE) == 1)
            let unknown = try await harness.send(.POST, "/v1/embeddings", body: Array(#"{"model":"nope","input":"hello"}"#.utf8))
            #expect(unknown.status == 404)
            #expect(try await Self.metric(harness, "signing_proxy_backend_requests_total", urlE) == 1)

            // /v1/models: the union of both pools' lists.
            let models = try await harness.send(.GET, "/v1/models").json()
            #expect(models["object"] as? String == "list")
            let ids = try #require(models["data"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(ids == ["chat", "embed"])

            // Two streams, one on each chat backend; kill A while both are mid-stream.
            let started = StartedStreams()
            async let first = Self.stream(harness, started: started)
            async let second = Self.stream(harness, started: started)
            let deadline = ContinuousClock.now + .seconds(5)
            while started.count.load(ordering: .relaxed) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(try await Self.metric(harness, "signing_proxy_backend_in_flight", urlA) == 1)
            #expect(try await Self.metric(harness, "signing_proxy_backend_in_flight", urlB) == 1)
            let killed = ContinuousClock.now
            chatA.crash()
            // Its stream's cut ejects it: every request chosen after that avoids it.
            while try await Self.metric(harness, "signing_proxy_backend_healthy", urlA) == 1 {
                if ContinuousClock.now - killed > .seconds(3) { break }
                try await Task.sleep(for: .milliseconds(1))
            }
            let ejected = ContinuousClock.now - killed
            #expect(ejected < .seconds(3))
            let streams = try await [first, second]
            let cut = try #require(streams.first { $0.cut }, "no stream was cut")
            let whole = try #require(streams.first { !$0.cut }, "both streams were cut")
            #expect(!cut.text.contains("[DONE]"))
            #expect(whole.text.contains("data: [DONE]"))
            // The cut stream is never signed; the other is.
            #expect(try await harness.storedRecord(Self.chatID(whole.text)) != nil)
            #expect(try await harness.signature(Self.chatID(cut.text)).status == 404)
            #expect(try await Self.metric(harness, "signing_proxy_backend_healthy", urlA) == 0)
            #expect(try await Self.metric(harness, "signing_proxy_backend_ejections_total", urlA) >= 1)

            // New requests: none reaches A, none fails.
            let sentBeforeA = try await Self.metric(harness, "signing_proxy_backend_requests_total", urlA)
            for _ in 0..<10 {
                #expect(try await harness.send(.POST, "/v1/chat/completions", body: Self.chat(stream: false, tokens: 2)).status == 200)
            }
            #expect(try await Self.metric(harness, "signing_proxy_backend_requests_total", urlA) == sentBeforeA)
            #expect(try await Self.metric(harness, "signing_proxy_backend_in_flight", urlA) == 0)

            // Restarted where it was, A is probed back and takes requests again.
            let restartedA = try MockVLLMProcess.start(model: "chat", port: portA, arguments: paced)
            let restarted = ContinuousClock.now
            while try await Self.metric(harness, "signing_proxy_backend_healthy", urlA) == 0 {
                #expect(ContinuousClock.now - restarted < .seconds(3), "A not back after 3 s")
                if ContinuousClock.now - restarted > .seconds(3) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let back = ContinuousClock.now - restarted
            for _ in 0..<6 {
                #expect(try await harness.send(.POST, "/v1/chat/completions", body: Self.chat(stream: false, tokens: 2)).status == 200)
            }
            #expect(try await Self.metric(harness, "signing_proxy_backend_requests_total", urlA) >= sentBeforeA + 3)
            print("several backends: SIGKILL to ejected \(ejected); restart to healthy again \(back)")

            // Every chat backend down: the chat model gets the 502 envelope, the embedding model still answers.
            restartedA.crash()
            chatB.crash()
            let down = try await harness.send(.POST, "/v1/chat/completions", body: Self.chat(stream: false))
            #expect(down.status == 502)
            #expect(try await harness.send(.POST, "/v1/embeddings", body: Array(#"{"model":"embed","input":"x"}"#.utf8)).status == 200)
        }
    }

    /// One streamed request's fate under load.
    private struct Outcome: Sendable {
        var started: ContinuousClock.Instant
        var status: Int
        var cut: Bool
    }

    @Test("Under load: killing a chat backend fails only what was in flight on it; later requests all succeed elsewhere", .timeLimit(.minutes(1)))
    func killUnderLoad() async throws {
        let paced = ["--delay-ms", "20", "--tokens", "10"]
        let chatA = try MockVLLMProcess.start(model: "chat", arguments: paced)
        let chatB = try MockVLLMProcess.start(model: "chat", arguments: paced)
        let (urlA, urlB) = (chatA.baseURL, chatB.baseURL)
        try await ProxyHarness.run(mock: nil) { configuration in
            configuration.backendURLs = [urlA, urlB]
            configuration.backendProbeInterval = .milliseconds(200)
            configuration.backendProbeTimeout = .milliseconds(500)
        } _: { harness in
            let stop = StartedStreams()
            let begin = ContinuousClock.now
            let outcomes = try await withThrowingTaskGroup(of: [Outcome].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var outcomes: [Outcome] = []
                        while stop.count.load(ordering: .relaxed) == 0 {
                            let started = ContinuousClock.now
                            var request = HTTPClientRequest(url: harness.proxyURL + "/v1/chat/completions")
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(harness.token)")
                            request.headers.add(name: "Content-Type", value: "application/json")
                            request.body = .bytes(Self.chat(stream: true))
                            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                            var text = ""
                            var cut = false
                            do {
                                for try await chunk in response.body { text += String(buffer: chunk) }
                            } catch {
                                cut = true
                            }
                            outcomes.append(Outcome(started: started, status: Int(response.status.code), cut: cut || !text.contains("[DONE]")))
                        }
                        return outcomes
                    }
                }
                try await Task.sleep(for: .milliseconds(700))
                let inFlightOnA = try await Self.metric(harness, "signing_proxy_backend_in_flight", urlA)
                chatA.crash()
                while try await Self.metric(harness, "signing_proxy_backend_healthy", urlA) == 1 {
                    try await Task.sleep(for: .milliseconds(1))
                }
                let ejected = ContinuousClock.now
                let sentToA = try await Self.metric(harness, "signing_proxy_backend_requests_total", urlA)
                try await Task.sleep(for: .milliseconds(1300))
                stop.count.store(1, ordering: .relaxed)
                var all: [Outcome] = []
                for try await outcomes in group { all += outcomes }
                let failed = all.filter { $0.status != 200 || $0.cut }
                let late = all.filter { $0.started > ejected }
                // Only requests already under way on the killed backend fail (a request may start between the count and the kill).
                #expect(failed.allSatisfy { $0.started < ejected })
                #expect(failed.count <= inFlightOnA + 2, "\(failed.count) failed, \(inFlightOnA) were in flight on the killed backend")
                #expect(late.allSatisfy { $0.status == 200 && !$0.cut })
                #expect(try await Self.metric(harness, "signing_proxy_backend_requests_total", urlA) == sentToA)
                print(
                    "several backends under load: \(all.count) streams in \(ContinuousClock.now - begin), 8 clients; "
                        + "\(inFlightOnA) in flight on the killed backend, \(failed.count) failed (cut or 502), "
                        + "\(late.count) started after its ejection, all served by the other")
                return all
            }
            #expect(outcomes.count > 32)
        }
        chatA.crash()
        chatB.crash()
    }

    @Test("Passive ejection: 3 answers of 500 in a row eject a backend; a refused connection is retried on another at no cost", .timeLimit(.minutes(1)))
    func passiveEjection() async throws {
        let failing = try MockVLLMProcess.start(model: "chat", arguments: ["--status", "500"])
        let good = try MockVLLMProcess.start(model: "chat")
        let closed = "http://127.0.0.1:\(ProxyHarness.closedPort())"
        let (urlF, urlG) = (failing.baseURL, good.baseURL)
        try await ProxyHarness.run(mock: nil) { configuration in
            configuration.backendURLs = [urlF, urlG]
            configuration.modelBackends = [.init(model: "other", urls: [closed, urlG])]
            // No probe during the test: what ejects is the answers alone.
            configuration.backendProbeInterval = .seconds(60)
        } _: { harness in
            var statuses: [Int] = []
            for _ in 0..<10 {
                statuses.append(try await harness.send(.POST, "/v1/chat/completions", body: Self.chat(stream: false, tokens: 2)).status)
            }
            // In turn while both are idle: F, G, F, G, F (its third 500 ejects it), then G only.
            #expect(statuses == [500, 200, 500, 200, 500, 200, 200, 200, 200, 200])
            #expect(try await Self.metric(harness, "signing_proxy_backend_requests_total", urlF) == 3)
            #expect(try await Self.metric(harness, "signing_proxy_backend_ejections_total", urlF) == 1)
            #expect(try await Self.metric(harness, "signing_proxy_backend_healthy", urlF) == 0)

            // A pool whose first choice refuses connections: every request is served by the other.
            let other = Array(#"{"model":"other","messages":[{"role":"user","content":"hi"}],"max_tokens":2}"#.utf8)
            for _ in 0..<4 {
                // mock-vllm serves "chat" only: its 404 shows the request reached it.
                #expect(try await harness.send(.POST, "/v1/chat/completions", body: other).status == 404)
            }
            #expect(try await Self.metric(harness, "signing_proxy_backend_ejections_total", closed) == 1)
            #expect(try await Self.metric(harness, "signing_proxy_backend_requests_total", closed) == 0)
            #expect(try await Self.metric(harness, "signing_proxy_backend_in_flight", closed) == 0)
            #expect(try await Self.metric(harness, "signing_proxy_backend_in_flight", urlG) == 0)
        }
        failing.crash()
        good.crash()
    }

    @Test("One pool of several backends relays /v1/models from one of them unchanged", .timeLimit(.minutes(1)))
    func onePoolModels() async throws {
        let first = try MockVLLMProcess.start(model: "chat")
        let second = try MockVLLMProcess.start(model: "chat")
        let (urlA, urlB) = (first.baseURL, second.baseURL)
        try await ProxyHarness.run(mock: nil) { configuration in
            configuration.backendURLs = [urlA, urlB]
        } _: { harness in
            let viaProxy = try await harness.send(.GET, "/v1/models")
            var direct = HTTPClientRequest(url: urlA + "/v1/models")
            direct.method = .GET
            let answer = try await HTTPClient.shared.execute(direct, timeout: .seconds(10))
            let body = try await answer.body.collect(upTo: 1 << 20)
            #expect(viaProxy.status == 200)
            // mock-vllm draws a new permission id per answer, as vLLM does; the rest is relayed byte for byte.
            func masked(_ bytes: [UInt8]) -> String {
                String(decoding: bytes, as: UTF8.self).replacing(/modelperm-[0-9a-f]+/, with: "modelperm-x")
            }
            #expect(masked(viaProxy.body) == masked(Array(body.readableBytesView)))
            #expect(masked(viaProxy.body).hasPrefix(#"{"object":"list","data":[{"id":"chat","object":"model","created":"#))
        }
        first.crash()
        second.crash()
    }
}
