import AsyncHTTPClient
import Foundation
import MockVLLM
import NIOCore
import NIOHTTP1
import SigningProxyServer
import Testing

/// Asserts the OpenAI envelope (docs/API.md, Errors).
func expectEnvelope(_ answer: ProxyHarness.Answer, status: Int, type: String, message: String? = nil) throws {
    #expect(answer.status == status)
    #expect(answer.headers.first(name: "content-type") == "application/json")
    let error = try #require(try answer.json()["error"] as? [String: Any])
    #expect(error["type"] as? String == type)
    #expect(error["param"] is NSNull && error["code"] is NSNull)
    if let message { #expect(error["message"] as? String == message) }
}

@Suite("Proxy failures and bad input")
struct FailureTests {
    @Test("bad JSON, non-object JSON, E2EE headers, oversized bodies and bad tokens get the envelope")
    func badRequests() async throws {
        try await ProxyHarness.run(configure: { $0.maxRequestSize = 1024 }) { harness in
            for body in ["{\"model\":\"tiny\",", "[1]", "", "nul", "\"text\""] {
                try expectEnvelope(
                    try await harness.send(.POST, "/v1/chat/completions", body: Array(body.utf8)),
                    status: 400, type: "bad_request", message: "Invalid JSON body")
            }
            try expectEnvelope(
                try await harness.send(
                    .POST, "/v1/chat/completions", body: Array("{}".utf8),
                    headers: [("Authorization", "Bearer test-token"), ("X-E2EE-Version", "1")]),
                // ACI's version header without X-Signing-Algo: ACI v2 knows no version 1 (docs/E2EE.md, Dispatch).
                status: 400, type: "e2ee_invalid_version")
            try expectEnvelope(
                try await harness.send(
                    .POST, "/v1/chat/completions", body: Array("{}".utf8),
                    headers: [("Authorization", "Bearer test-token"), ("X-Signing-Algo", "ecdsa"), ("X-Encryption-Version", "2")]),
                // NEAR's dialect without its client key.
                status: 400, type: "bad_request")
            let big = Array("{\"p\":\"\(String(repeating: "x", count: 2000))\"}".utf8)
            try expectEnvelope(
                try await harness.send(.POST, "/v1/completions", body: big),
                status: 413, type: "payload_too_large", message: "Request body too large. Maximum: 1024 bytes")
            // The same body without Content-Length (chunked) is cut off while it streams in.
            var chunked = HTTPClientRequest(url: harness.proxyURL + "/v1/completions")
            chunked.method = .POST
            chunked.headers.add(name: "Authorization", value: "Bearer test-token")
            chunked.body = .stream(AsyncStream { continuation in
                continuation.yield(ByteBuffer(bytes: big))
                continuation.finish()
            }, length: .unknown)
            let response = try await HTTPClient.shared.execute(chunked, timeout: .seconds(10))
            #expect(response.status.code == 413)

            let noAuth = try await harness.send(.POST, "/v1/chat/completions", body: Array("{}".utf8), headers: [])
            try expectEnvelope(noAuth, status: 401, type: "unauthorized", message: "Invalid or missing Authorization header")
            for header in ["Bearer wrong", "bearer test-token", "Basic dGVzdA==", "Bearer test-tokenX", "Bearer "] {
                let answer = try await harness.send(
                    .POST, "/v1/chat/completions", body: Array("{}".utf8), headers: [("Authorization", header)])
                #expect(answer.status == 401)
            }
            // Any token of the comma-separated list works.
            let second = try await harness.send(
                .POST, "/v1/chat/completions", body: Array(#"{"model":"tiny"}"#.utf8),
                headers: [("Authorization", "Bearer second-token")])
            #expect(second.status == 200)
            #expect(harness.stats.snapshot.completionRequests == 1)
        }
    }

    @Test("unknown routes, unknown chat ids and bad algorithms")
    func lookups() async throws {
        try await ProxyHarness.run { harness in
            try expectEnvelope(try await harness.send(.GET, "/nope"), status: 404, type: "not_found")
            try expectEnvelope(
                try await harness.signature("chatcmpl-unknown"), status: 404, type: "not_found",
                message: "Chat id not found or expired")
            // The lookup comes first: unknown id with a bad algorithm is still 404.
            try expectEnvelope(try await harness.signature("chatcmpl-unknown", algorithm: "rsa"), status: 404, type: "not_found")
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(#"{"model":"tiny"}"#.utf8))
            let id = try #require(try answer.json()["id"] as? String)
            try expectEnvelope(try await harness.signature(id, algorithm: "rsa"), status: 400, type: "invalid_signing_algo")
            let unauthorized = try await harness.send(.GET, "/v1/signature/\(id)", headers: [])
            #expect(unauthorized.status == 401)
            // Liveness, version and models need no token.
            #expect(try await harness.send(.GET, "/", headers: []).text == "{}")
            #expect(try await harness.send(.GET, "/version", headers: []).text.contains("\"type\":\"proxy\""))
            let models = try await harness.send(.GET, "/v1/models", headers: [])
            #expect(models.status == 200)
            #expect(try (models.json()["data"] as? [[String: Any]])?.first?["id"] as? String == "tiny")
            let metrics = try await harness.send(.GET, "/v1/metrics", headers: [])
            #expect(metrics.text.contains("# --- vLLM Backend Metrics ---"))
            #expect(metrics.text.contains("signing_proxy_signatures_stored_total 1"))
            // vLLM's own series, fetched on the fast path's pooled connections.
            #expect(metrics.text.contains("vllm:generation_tokens_total{model_name=\"tiny\"}"))
        }
    }

    @Test("/v1/metrics without vLLM still shows the proxy's counters, and says vLLM's are unavailable")
    func metricsWithoutUpstream() async throws {
        try await ProxyHarness.run(mock: nil) { harness in
            let metrics = try await harness.send(.GET, "/v1/metrics", headers: [])
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("signing_proxy_signatures_stored_total 0"))
            #expect(metrics.text.hasSuffix("# --- vLLM Backend Metrics ---\n# vLLM metrics unavailable\n"))
        }
    }

    @Test("dev mode says attestation is unavailable, in the envelope")
    func devAttestation() async throws {
        try await ProxyHarness.run { harness in
            let answer = try await harness.send(.GET, "/v1/attestation/report", headers: [])
            try expectEnvelope(answer, status: 503, type: "service_unavailable")
        }
    }

    @Test("upstream errors pass through with their status and body, unsigned")
    func upstreamErrors() async throws {
        try await ProxyHarness.run { harness in
            let unknownModel = try await harness.send(
                .POST, "/v1/chat/completions", body: Array(#"{"model":"nope","messages":[]}"#.utf8))
            #expect(unknownModel.status == 404)
            #expect(try (unknownModel.json()["error"] as? [String: Any])?["type"] as? String == "NotFoundError")
            let tooLong = try await harness.send(
                .POST, "/v1/chat/completions", body: Array(#"{"model":"tiny","max_tokens":100000,"stream":true}"#.utf8))
            #expect(tooLong.status == 400)
            #expect(tooLong.headers.first(name: "content-type") == "application/json")
            #expect(tooLong.headers.first(name: "server") == nil)
            #expect(harness.proxy.metrics.value(.signaturesStored) == 0)
        }
        try await ProxyHarness.run(mock: MockVLLMConfiguration(forcedStatus: 503)) { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(#"{"model":"tiny"}"#.utf8))
            #expect(answer.status == 503)
        }
        let html = MockVLLMReplay(body: Array("<html>bad gateway</html>".utf8), contentType: "text/html", status: 500)
        try await ProxyHarness.run(mock: MockVLLMConfiguration(replay: html)) { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(#"{"model":"tiny"}"#.utf8))
            try expectEnvelope(answer, status: 500, type: "upstream_error", message: "Upstream request failed with status 500")
        }
    }

    @Test("an unreachable upstream is 502 and a silent one 504")
    func unreachableAndSilent() async throws {
        try await ProxyHarness.run(mock: nil) { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(#"{"model":"tiny"}"#.utf8))
            try expectEnvelope(answer, status: 502, type: "upstream_error", message: "Upstream unavailable")
        }
        try await ProxyHarness.run(
            mock: MockVLLMConfiguration(headerDelay: .seconds(5)),
            configure: { $0.upstreamTimeout = .seconds(1) }
        ) { harness in
            let answer = try await harness.send(.POST, "/v1/chat/completions", body: Array(#"{"model":"tiny"}"#.utf8))
            try expectEnvelope(answer, status: 504, type: "upstream_timeout")
        }
    }

    @Test("a stream cut before [DONE] reaches the client truncated and leaves no signature")
    func cutMidStream() async throws {
        try await ProxyHarness.run(mock: MockVLLMConfiguration(tokens: 20, failAfter: 4)) { harness in
            var request = HTTPClientRequest(url: harness.proxyURL + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer test-token")
            request.body = .bytes(ByteBuffer(string: #"{"model":"tiny","stream":true}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            var received: [UInt8] = []
            await #expect(throws: (any Error).self) {
                for try await chunk in response.body { received += chunk.readableBytesView }
            }
            #expect(!String(decoding: received, as: UTF8.self).contains("[DONE]"))
            let answer = try await harness.signature(try firstChatID(received))
            #expect(answer.status == 404)
            #expect(harness.proxy.metrics.value(.upstreamCutMidStream) == 1)
        }
    }

    @Test("a client that leaves mid-stream cancels the upstream request and nothing is signed")
    func clientDisconnect() async throws {
        try await ProxyHarness.run(mock: MockVLLMConfiguration(tokens: 400, delay: .milliseconds(20))) { harness in
            let firstChunk = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                group.addTask {
                    var request = HTTPClientRequest(url: harness.proxyURL + "/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer test-token")
                    request.body = .bytes(ByteBuffer(string: #"{"model":"tiny","stream":true}"#))
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                    for try await chunk in response.body {
                        return Array(chunk.readableBytesView)  // leaves: the iterator is dropped, AHC closes
                    }
                    return []
                }
                let first = try await group.next() ?? []
                group.cancelAll()
                return first
            }
            #expect(firstChunk.starts(with: Array("data: ".utf8)))
            let aborted = await harness.stats.waitUntil(timeout: .seconds(5)) { $0.streamsAborted == 1 }
            #expect(aborted, "the upstream never saw the cancellation")
            #expect(harness.stats.snapshot.streamsCompleted == 0)
            try await Task.sleep(for: .milliseconds(200))
            // One departure, counted once, whichever of the watcher or a failed write noticed it first.
            #expect(harness.proxy.metrics.value(.clientDisconnects) == 1)
            let answer = try await harness.signature(try firstChatID(firstChunk))
            #expect(answer.status == 404)
        }
    }

    @Test("a client reading [DONE] and asking at once always finds the signature", arguments: 0..<5)
    func eagerClient(round: Int) async throws {
        try await ProxyHarness.run(mock: MockVLLMConfiguration(tokens: 3)) { harness in
            var request = HTTPClientRequest(url: harness.proxyURL + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer test-token")
            request.body = .bytes(ByteBuffer(string: #"{"model":"tiny","stream":true}"#))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            var received: [UInt8] = []
            for try await chunk in response.body {
                received += chunk.readableBytesView
                if String(decoding: received, as: UTF8.self).contains("data: [DONE]") { break }
            }
            let answer = try await harness.signature(try firstChatID(received))
            #expect(answer.status == 200)
        }
    }
}
