import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SigningCore
import TestFixtures
import Testing

@testable import SigningProxyServer

/// Every vLLM route the proxy serves (docs/API.md, Routes), end to end on `EmbeddedChannel` with the real
/// vLLM 0.32 captures of `Fixtures/vllm-routes` as the upstream's answers: what goes upstream, what the
/// client gets, and what is signed.
@Suite("Route table: every vLLM route, signed where it should be")
struct RouteTableTests {
    static let auth = "Authorization: Bearer test-token\r\n"

    private static func hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// A capture's answer as vLLM sent it, chunked.
    private static func upstreamAnswer(_ name: String, status: String = "200 OK") throws -> [UInt8] {
        let body = try Fixtures.bytes("vllm-routes/\(name).body")
        let headers = try String(decoding: Fixtures.bytes("vllm-routes/\(name).headers"), as: UTF8.self)
        let type = headers.split(whereSeparator: \.isNewline).first { $0.lowercased().hasPrefix("content-type:") }
            .map { String($0.dropFirst("content-type:".count)).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "application/json"
        var answer = Array("HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        if !body.isEmpty { answer += Array((String(body.count, radix: 16) + "\r\n").utf8) + body + Array("\r\n".utf8) }
        answer += Array("0\r\n\r\n".utf8)
        return answer
    }

    private static func post(_ path: String, body: [UInt8], headers: String = auth) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: x\r\n\(headers)Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    /// The body of a whole answer (chunked or with a length), without its head.
    private static func body(of response: [UInt8]) -> [UInt8] {
        let text = response
        guard let split = text.firstRange(of: Array("\r\n\r\n".utf8)) else { return [] }
        let head = String(decoding: text[..<split.lowerBound], as: UTF8.self).lowercased()
        var rest = Array(text[split.upperBound...])
        guard head.contains("transfer-encoding: chunked") else { return rest }
        var body: [UInt8] = []
        while let line = rest.firstRange(of: Array("\r\n".utf8)) {
            let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self), radix: 16) ?? 0
            if size == 0 { break }
            body += rest[line.upperBound..<(line.upperBound + size)]
            rest = Array(rest[(line.upperBound + size + 2)...])
        }
        return body
    }

    struct Signed: Sendable, CustomTestStringConvertible {
        var path: String
        var capture: String
        var id: String
        var headers: String = RouteTableTests.auth
        var testDescription: String { "\(path) (\(capture))" }
    }

    static let signed = [
        Signed(path: "/v1/responses", capture: "responses", id: ""),
        Signed(path: "/v1/responses", capture: "responses-stream", id: "resp_997fd5f4a52da6cd"),
        Signed(path: "/v1/responses", capture: "responses-stream-completed", id: "resp_bb3f735f408e0d9b"),
        Signed(path: "/v1/messages", capture: "messages", id: "", headers: "x-api-key: test-token\r\n"),
        Signed(path: "/v1/messages", capture: "messages-stream", id: "chatcmpl-befba0a404e72f10", headers: "x-api-key: test-token\r\n"),
        Signed(path: "/v1/embeddings", capture: "embeddings", id: ""),
        Signed(path: "/v1/rerank", capture: "rerank", id: ""),
        Signed(path: "/score", capture: "score", id: ""),
        Signed(path: "/pooling", capture: "pooling", id: ""),
    ]

    @Test("a signed route: exact bytes both ways, signed under the answer's id once delivered", arguments: signed)
    func signedRoute(_ route: Signed) throws {
        let request = try Fixtures.bytes("vllm-routes/\(route.capture).request")
        let captured = try Fixtures.bytes("vllm-routes/\(route.capture).body")
        // The id as a client reads it: the top-level id of a JSON answer, or the stream's own (checked above).
        let id = try route.id.isEmpty
            ? #require((try JSONSerialization.jsonObject(with: Data(captured)) as? [String: Any])?["id"] as? String)
            : route.id
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(Self.post(route.path, body: request, headers: route.headers))
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        let sent = try connection.sent(on: upstream)
        #expect(sent.hasPrefix("POST \(route.path) HTTP/1.1\r\n"))
        #expect(Array(sent.utf8).suffix(request.count) == request[...], "the request body, exactly")
        #expect(!sent.lowercased().contains("x-api-key"), "the token never goes upstream")
        connection.answer(on: upstream, bytes: try Self.upstreamAnswer(route.capture))
        let response = try connection.outputBytes()
        #expect(response.starts(with: Array("HTTP/1.1 200 OK".utf8)), "\(String(decoding: response.prefix(300), as: UTF8.self))")
        #expect(Self.body(of: response) == captured, "the answer, exactly")
        guard Self.body(of: response) == captured else { return }
        #expect(connection.services.notary.lookup(id) == nil, "not before delivery is confirmed")
        connection.advance(by: FastPathRouter.deliveryGrace)
        let record = try #require(connection.services.notary.lookup(id))
        #expect(record.requestHash.hex == Self.hex(request))
        #expect(record.responseHash.hex == Self.hex(captured))
    }

    struct Cut: Sendable, CustomTestStringConvertible {
        var path: String
        var capture: String
        var id: String
        var testDescription: String { capture }
    }

    static let cuts = [
        Cut(path: "/v1/responses", capture: "responses-stream", id: "resp_997fd5f4a52da6cd"),
        Cut(path: "/v1/messages", capture: "messages-stream", id: "chatcmpl-befba0a404e72f10"),
    ]

    @Test("a stream cut before its terminal event is relayed as far as it went and never signed", arguments: cuts)
    func cutStream(_ cut: Cut) throws {
        let request = try Fixtures.bytes("vllm-routes/\(cut.capture).request")
        let captured = try Fixtures.bytes("vllm-routes/\(cut.capture).body")
        let terminal = try #require(captured.lastRange(of: Array("event: ".utf8)))
        let partial = Array(captured[..<terminal.lowerBound])
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(Self.post(cut.path, body: request))
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        _ = try connection.sent(on: upstream)
        connection.answer(
            on: upstream,
            bytes: Array("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                + Array((String(partial.count, radix: 16) + "\r\n").utf8) + partial + Array("\r\n".utf8))
        connection.loop.run()
        #expect(try connection.outputBytes().count > partial.count, "what came is relayed at once")
        try upstream.close().wait()
        connection.loop.run()
        connection.advance(by: FastPathRouter.deliveryGrace)
        #expect(connection.services.notary.lookup(cut.id) == nil)
        #expect(!connection.isActive, "the client sees a truncated answer")
    }

    @Test("a Responses stream with an error event is relayed whole and never signed")
    func failedResponsesStream() throws {
        let stream = "event: response.created\ndata: {\"response\":{\"id\":\"resp_failed\"}}\n\nevent: response.failed\ndata: {}\n\nevent: response.completed\ndata: {}\n\n"
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(Self.post("/v1/responses", body: Array(#"{"model":"tiny","input":"x","stream":true}"#.utf8)))
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        _ = try connection.sent(on: upstream)
        connection.answer(
            on: upstream,
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(stream.utf8.count)\r\n\r\n\(stream)")
        #expect(Self.body(of: try connection.outputBytes()) == Array(stream.utf8))
        connection.advance(by: FastPathRouter.deliveryGrace)
        #expect(connection.services.notary.lookup("resp_failed") == nil)
    }

    struct PassThrough: Sendable, CustomTestStringConvertible {
        var method: String
        var path: String
        var upstreamLine: String
        var capture: String
        var testDescription: String { "\(method) \(path)" }
    }

    static let unsigned = [
        PassThrough(method: "POST", path: "/tokenize", upstreamLine: "POST /tokenize HTTP/1.1", capture: "tokenize"),
        PassThrough(method: "POST", path: "/detokenize", upstreamLine: "POST /detokenize HTTP/1.1", capture: "detokenize"),
        PassThrough(
            method: "POST", path: "/v1/messages/count_tokens", upstreamLine: "POST /v1/messages/count_tokens HTTP/1.1",
            capture: "messages-count-tokens"),
        PassThrough(
            method: "GET", path: "/v1/responses/resp_84653e62dcb06512?include=x", upstreamLine: "GET /v1/responses/resp_84653e62dcb06512?include=x HTTP/1.1",
            capture: "responses-get"),
    ]

    @Test("an unsigned route is authenticated, relayed exactly, and creates no signature", arguments: unsigned)
    func unsignedRoute(_ route: PassThrough) throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let request = route.method == "GET" ? [] : try Fixtures.bytes("vllm-routes/\(route.capture).request")
        if route.method == "GET" {
            connection.send("GET \(route.path) HTTP/1.1\r\nHost: x\r\n\(Self.auth)\r\n")
        } else {
            connection.send(Self.post(route.path, body: request))
        }
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        #expect(try connection.sent(on: upstream).hasPrefix(route.upstreamLine + "\r\n"))
        connection.answer(on: upstream, bytes: try Self.upstreamAnswer(route.capture))
        let captured = try Fixtures.bytes("vllm-routes/\(route.capture).body")
        #expect(Self.body(of: try connection.outputBytes()) == captured)
        connection.advance(by: FastPathRouter.deliveryGrace)
        #expect(connection.services.metrics.value(.signaturesStored) == 0)
        if let id = (try? JSONSerialization.jsonObject(with: Data(captured)) as? [String: Any])?["id"] as? String {
            #expect(connection.services.notary.lookup(id) == nil, "a retrieval never creates a signature")
        }
    }

    struct Refused: Sendable, CustomTestStringConvertible {
        var request: String
        var status: String
        var contains: String
        var testDescription: String { String(request.prefix(while: { $0 != "\r" })) }
    }

    static let refused = [
        Refused(request: "POST /sleep HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 0\r\n\r\n", status: "404", contains: "not served"),
        Refused(request: "POST /wake_up HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 2\r\n\r\n{}", status: "404", contains: "not served"),
        Refused(request: "POST /reset_prefix_cache HTTP/1.1\r\nHost: x\r\n\(auth)\r\n", status: "404", contains: "not served"),
        Refused(request: "POST /scale_elastic_ep HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 2\r\n\r\n{}", status: "404", contains: "not served"),
        Refused(request: "POST /v1/load_lora_adapter HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 2\r\n\r\n{}", status: "404", contains: "not served"),
        Refused(request: "GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n", status: "404", contains: "not served"),
        Refused(request: "GET /v1/responses/../../sleep HTTP/1.1\r\nHost: x\r\n\(auth)\r\n", status: "404", contains: "not served"),
        Refused(request: "POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", status: "401", contains: "Authorization"),
        Refused(request: "POST /v1/responses HTTP/1.1\r\nHost: x\r\nx-api-key: wrong\r\nContent-Length: 2\r\n\r\n{}", status: "401", contains: "Invalid token"),
        Refused(
            request: "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", status: "401",
            contains: #"{"type":"error","error":{"type":"authentication_error""#),
        Refused(request: "GET /v1/embeddings HTTP/1.1\r\nHost: x\r\n\(auth)\r\n", status: "405", contains: "Method not allowed"),
        Refused(request: "POST /v1/embeddings HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 3\r\n\r\n[1]", status: "400", contains: "Invalid JSON"),
        Refused(
            request: "POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n\(auth)Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            status: "400", contains: "multipart"),
        Refused(
            request: "POST /v1/responses/resp_1/cancel HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 2\r\n\r\n{}", status: "400",
            contains: "no request body"),
    ]

    @Test("refused at the proxy, never forwarded", arguments: refused)
    func refusedRoute(_ case_: Refused) throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(case_.request)
        connection.loop.run()
        let output = try connection.output()
        #expect(output.hasPrefix("HTTP/1.1 \(case_.status)"), "\(output)")
        #expect(output.contains(case_.contains), "\(output)")
        #expect(connection.upstreams.isEmpty)
    }

    @Test("a trailing slash on a vLLM route is vLLM's 307 to the path without it, relative, never forwarded")
    func trailingSlash() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send("POST /v1/chat/completions/?a=1 HTTP/1.1\r\nHost: x\r\n\(Self.auth)Content-Length: 2\r\n\r\n{}")
        connection.loop.run()
        let output = try connection.output()
        #expect(output.hasPrefix("HTTP/1.1 307"))
        #expect(output.contains("Location: /v1/chat/completions?a=1\r\n"))
        #expect(connection.upstreams.isEmpty)
        connection.advance(by: FastPathRouter.deliveryGrace)
        #expect(connection.services.metrics.value(.signaturesStored) == 0)
    }

    @Test("an audio upload goes upstream as multipart with its boundary; a text answer is relayed unsigned")
    func audioMultipart() throws {
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ntiny\r\n--b--\r\n".utf8)
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        connection.send(
            Array("POST /v1/audio/transcriptions HTTP/1.1\r\nHost: x\r\n\(Self.auth)Content-Type: multipart/form-data; boundary=b\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        connection.loop.run()
        let upstream = try #require(connection.upstreams.first)
        let sent = try connection.sent(on: upstream)
        #expect(sent.contains("Content-Type: multipart/form-data; boundary=b\r\n"))
        #expect(sent.hasSuffix(String(decoding: body, as: UTF8.self)))
        connection.answer(on: upstream, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello")
        let output = try connection.output()
        #expect(output.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(output.hasSuffix("\r\n\r\nhello"))
    }

    @Test("route matching: exact paths, the allow-list, the proxy's own routes")
    func matching() {
        #expect(FastPathServices.route(method: .POST, path: "/v1/responses") == .proxied(RouteTable.fixed["/v1/responses"]!))
        #expect(FastPathServices.route(method: .GET, path: "/health") == nil)
        #expect(FastPathServices.route(method: .GET, path: "/health/") == nil)
        #expect(FastPathServices.route(method: .GET, path: "/v1/attestation/report?nonce=1") == nil)
        #expect(FastPathServices.route(method: .GET, path: "/v1/models/") == .redirect(location: "/v1/models"))
        #expect(FastPathServices.route(method: .GET, path: "/sleep") == .notServed)
        #expect(FastPathServices.route(method: .GET, path: "/V1/chat/completions") == .notServed)
        #expect(FastPathServices.route(method: .GET, path: "/v1/responses/resp_x/cancel") == .wrongMethod)
        guard case .proxied(let retrieval) = FastPathServices.route(method: .GET, path: "/v1/responses/resp_x?stream=true") else {
            Issue.record("retrieval not matched")
            return
        }
        #expect(retrieval.upstreamPath == "/v1/responses/resp_x?stream=true")
        #expect(!retrieval.isSigned)
        #expect(FastPathServices.route(method: .GET, path: "/v1/responses/resp%2F..") == .notServed)
    }
}
