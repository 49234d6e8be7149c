import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SigningCore
import TestFixtures
import Testing

@testable import SigningProxyServer

/// The exchange core without sockets, channels or loops: events in, actions out. Every signed route's
/// real vLLM 0.32 capture at every chunk split, and every fault the glue can report.
@Suite("Exchange state machine: every route's grammar and every fault, without sockets")
struct ExchangeStateMachineTests {
    static let settings = ExchangeStateMachine.Settings(
        maxRequestSize: 64 * 1024, maxUpstreamResponseSize: 16 * 1024, upstreamHost: "vllm:8000", upstreamBasePath: "/base")

    // MARK: Driving

    static func machine(
        _ path: String, method: HTTPMethod = .POST, headers: [(String, String)] = [("Content-Type", "application/json")],
        version: HTTPVersion = .http1_1, authentication: OpenAIError? = nil, settings: ExchangeStateMachine.Settings = settings
    ) throws -> ExchangeStateMachine {
        let route = try #require(FastPathServices.route(method: method, path: path))
        let head = HTTPRequestHead(version: version, method: method, uri: path, headers: HTTPHeaders(headers))
        return ExchangeStateMachine(route: route, head: head, settings: settings, authentication: authentication)
    }

    static func buffer(_ bytes: some Sequence<UInt8>) -> ByteBuffer { ByteBuffer(bytes: Array(bytes)) }

    static func hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// Feeds a request whose checks pass and returns what went upstream.
    static func send(_ machine: inout ExchangeStateMachine, body parts: [[UInt8]]) throws -> (head: HTTPRequestHead, body: [UInt8]) {
        guard case .none = machine.requestHead(declaresBody: !parts.isEmpty) else { throw Unexpected("head refused") }
        for part in parts {
            guard case .none = machine.requestBody(buffer(part)) else { throw Unexpected("body refused") }
        }
        guard case .connectUpstream(fresh: false, _) = machine.requestEnd(now: .uptimeNanoseconds(0)) else { throw Unexpected("no connect") }
        guard case .sendUpstream(let head, let body) = machine.upstreamConnected(reused: false) else { throw Unexpected("nothing sent") }
        return (head, body.map { Array($0.readableBytesView) } ?? [])
    }

    /// What the client got, and what the exchange left to record.
    struct Outcome {
        var head: HTTPResponseHead?
        var bytes: [UInt8] = []
        var receipt: ExchangeStateMachine.Receipt?
        var upstream: ExchangeStateMachine.UpstreamDisposal?
        var notes: [ExchangeStateMachine.Note] = []
        var close: Bool?
        var abandoned = false
        var flushes = 0
    }

    /// Applies one action to an outcome, as the glue would write it.
    static func apply(_ action: ExchangeStateMachine.Action, to outcome: inout Outcome) throws {
        switch action {
        case .none, .pauseUpstreamReads, .resumeUpstreamReads:
            break
        case .note(let note):
            outcome.notes.append(note)
        case .flush:
            outcome.flushes += 1
        case .forward(let head, let body):
            if let head {
                guard outcome.head == nil else { throw Unexpected("a second head") }
                outcome.head = head
            }
            guard outcome.head != nil else { throw Unexpected("body before head") }
            outcome.bytes += body.readableBytesView
        case .respond(let response, let upstream, let note):
            guard outcome.head == nil else { throw Unexpected("an answer after a head") }
            outcome.head = response.head
            outcome.bytes += response.body?.readableBytesView ?? []
            outcome.receipt = response.receipt
            outcome.upstream = upstream
            outcome.close = response.close
            if let note { outcome.notes.append(note) }
        case .finishStream(let head, let held, let receipt, let upstream, let close):
            if let head { outcome.head = head }
            for buffer in held { outcome.bytes += buffer.readableBytesView }
            outcome.receipt = receipt
            outcome.upstream = upstream
            outcome.close = close
        case .abandon(let upstream, let note):
            outcome.abandoned = true
            outcome.upstream = upstream
            if let note { outcome.notes.append(note) }
        case .refuse, .connectUpstream, .releaseUnusedConnection, .sendUpstream, .lookUpSignature, .retryLookup, .claimReplay:
            throw Unexpected("\(action) while answering")
        }
    }

    /// Feeds an upstream answer in `parts` and collects what the client got.
    static func answer(
        _ machine: inout ExchangeStateMachine, status: HTTPResponseStatus = .ok, contentType: String?, parts: [[UInt8]], end: Bool = true,
        keepAlive: Bool = true
    ) throws -> Outcome {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        var outcome = Outcome()
        try apply(machine.upstreamHead(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), to: &outcome)
        for part in parts {
            try apply(machine.upstreamBody(buffer(part)), to: &outcome)
            try apply(machine.upstreamReadComplete(), to: &outcome)
        }
        if end { try apply(machine.upstreamEnd(), to: &outcome) }
        return outcome
    }

    struct Unexpected: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Captures

    /// A signed capture and how a client (not the proxy's scanners) finds its id.
    struct Capture: Sendable, CustomTestStringConvertible {
        var path: String
        var file: String
        var stream: Bool
        var testDescription: String { "\(path) \(file)" }

        func body() throws -> [UInt8] { try Fixtures.bytes("\(file).body") }

        func request() throws -> [UInt8] {
            (try? Fixtures.bytes("\(file).request")) ?? Array(#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#.utf8)
        }

        /// The id by Foundation's JSON: the top-level `id`, or in a stream's first event its own place.
        func expectedID() throws -> String? {
            let bytes = try body()
            guard stream else {
                let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
                return object?["id"] as? String
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("data: {") })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
            if let response = object["response"] as? [String: Any] { return response["id"] as? String }
            if let message = object["message"] as? [String: Any] { return message["id"] as? String }
            return object["id"] as? String
        }
    }

    static let captures = [
        Capture(path: "/v1/chat/completions", file: "vllm/chat-stream", stream: true),
        Capture(path: "/v1/chat/completions", file: "vllm/chat-stream-n2", stream: true),
        Capture(path: "/v1/completions", file: "vllm/completion-stream", stream: true),
        Capture(path: "/v1/chat/completions", file: "vllm/chat", stream: false),
        Capture(path: "/v1/completions", file: "vllm/completion", stream: false),
        Capture(path: "/v1/responses", file: "vllm-routes/responses-stream", stream: true),
        Capture(path: "/v1/responses", file: "vllm-routes/responses-stream-completed", stream: true),
        Capture(path: "/v1/responses", file: "vllm-routes/responses", stream: false),
        Capture(path: "/v1/messages", file: "vllm-routes/messages-stream", stream: true),
        Capture(path: "/v1/messages", file: "vllm-routes/messages", stream: false),
        Capture(path: "/v1/embeddings", file: "vllm-routes/embeddings", stream: false),
        Capture(path: "/v1/rerank", file: "vllm-routes/rerank", stream: false),
        Capture(path: "/score", file: "vllm-routes/score", stream: false),
        Capture(path: "/pooling", file: "vllm-routes/pooling", stream: false),
    ]

    private static func run(_ capture: Capture, requestParts: [[UInt8]], answerParts: [[UInt8]]) throws -> Outcome {
        var machine = try machine(capture.path)
        _ = try send(&machine, body: requestParts)
        return try answer(&machine, contentType: capture.stream ? "text/event-stream; charset=utf-8" : "application/json", parts: answerParts)
    }

    @Test("a signed capture at every two-way split of its answer: exact bytes out, signed under its id", arguments: captures)
    func everySplit(_ capture: Capture) throws {
        let body = try capture.body()
        let request = try capture.request()
        let expected = ExchangeStateMachine.Receipt.sign(
            chatID: try #require(try capture.expectedID()), requestHash: Self.hex(request), responseHash: Self.hex(body), inline: false)
        for split in 0...body.count {
            let outcome = try Self.run(capture, requestParts: [request], answerParts: [Array(body[..<split]), Array(body[split...])])
            #expect(outcome.bytes == body, "split at \(split)")
            #expect(outcome.receipt == expected, "split at \(split)")
            #expect(outcome.upstream == .release(reusable: true))
            #expect(outcome.head?.status == .ok)
        }
    }

    @Test("a signed capture byte by byte, and its request at every split, hashed as it arrives", arguments: captures)
    func byteByByte(_ capture: Capture) throws {
        let body = try capture.body()
        let request = try capture.request()
        let outcome = try Self.run(capture, requestParts: [request], answerParts: body.map { [$0] })
        #expect(outcome.bytes == body)
        guard case .sign(_, let requestHash, let responseHash, _) = outcome.receipt else {
            Issue.record("not signed: \(String(describing: outcome.receipt))")
            return
        }
        #expect(requestHash == Self.hex(request))
        #expect(responseHash == Self.hex(body))
        for split in 0...request.count {
            var machine = try Self.machine(capture.path)
            let sent = try Self.send(&machine, body: [Array(request[..<split]), Array(request[split...])])
            #expect(sent.body == request)
            let result = try Self.answer(&machine, contentType: capture.stream ? "text/event-stream" : "application/json", parts: [body])
            guard case .sign(_, let hash, _, _) = result.receipt else {
                Issue.record("not signed at request split \(split)")
                return
            }
            #expect(hash == Self.hex(request))
        }
    }

    @Test("a stream cut anywhere before its terminal event is relayed as far as it went and never signed", arguments: captures.filter(\.stream))
    func cutStreams(_ capture: Capture) throws {
        let body = try capture.body()
        // Where the terminal event starts: every cut before it leaves the grammar unfinished.
        let separator = Array("\n\n".utf8)
        let trimmed = Array(body.dropLast(2))
        let terminal = try #require(trimmed.ranges(of: separator).last).upperBound
        for cut in stride(from: 0, to: terminal, by: 7) {
            var machine = try Self.machine(capture.path)
            _ = try Self.send(&machine, body: [try capture.request()])
            // Ended cleanly by HTTP, but short of the grammar's end.
            let ended = try Self.answer(&machine, contentType: "text/event-stream", parts: [Array(body[..<cut])])
            #expect(ended.receipt == .unsigned(.cut) || ended.receipt == .unsigned(.noID), "cut at \(cut)")
            #expect(ended.bytes == Array(body[..<cut]))
            // Cut by the upstream connection closing: the client connection is abandoned.
            var closing = try Self.machine(capture.path)
            _ = try Self.send(&closing, body: [try capture.request()])
            var outcome = try Self.answer(&closing, contentType: "text/event-stream", parts: [Array(body[..<cut])], end: false)
            let wroteHead = outcome.head != nil
            try Self.apply(closing.upstreamClosed("reset"), to: &outcome)
            if !wroteHead {
                // Nothing written yet: a proper 502.
                #expect(outcome.head?.status == .badGateway, "cut at \(cut)")
            } else {
                #expect(outcome.abandoned, "cut at \(cut)")
                #expect(outcome.notes.contains(.cutMidStream("reset")))
            }
            #expect(outcome.receipt == nil || outcome.receipt == ExchangeStateMachine.Receipt.none)
        }
    }

    // MARK: Grammar faults

    @Test("error events leave a stream unsigned, each route by its own grammar")
    func errorEvents() throws {
        let cases: [(String, String)] = [
            ("/v1/chat/completions", "data: {\"id\":\"chatcmpl-1\",\"choices\":[]}\n\ndata: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n"),
            (
                "/v1/responses",
                "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\"}}\n\n"
                    + "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_1\"}}\n\n"
                    + "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\"}}\n\n"
            ),
            (
                "/v1/messages",
                "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\"}}\n\n"
                    + "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}\n\n"
            ),
        ]
        for (path, stream) in cases {
            var machine = try Self.machine(path)
            _ = try Self.send(&machine, body: [Array("{}".utf8)])
            let outcome = try Self.answer(&machine, contentType: "text/event-stream", parts: [Array(stream.utf8)])
            #expect(outcome.receipt == .unsigned(.errorEvent), "\(path)")
            #expect(outcome.bytes == Array(stream.utf8), "\(path)")
        }
    }

    @Test("a JSON answer without a usable string id is relayed and not signed")
    func jsonWithoutID() throws {
        for body in [#"{"object":"list","data":[]}"#, #"{"id":7}"#, #"{"id":""}"#] {
            var machine = try Self.machine("/v1/embeddings")
            _ = try Self.send(&machine, body: [Array("{}".utf8)])
            let outcome = try Self.answer(&machine, contentType: "application/json", parts: [Array(body.utf8)])
            #expect(outcome.receipt == .unsigned(.noID), "\(body)")
            #expect(outcome.bytes == Array(body.utf8))
        }
    }

    @Test("a JSON answer nested 500 deep is valid: forwarded and signed, one depth limit")
    func deepJSON() throws {
        let body = Array(#"{"id":"deep-1","x":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 500)
            + Array(repeating: UInt8(ascii: "]"), count: 500) + [UInt8(ascii: "}")]
        var machine = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        let outcome = try Self.answer(&machine, contentType: "application/json", parts: [body])
        #expect(outcome.receipt == .sign(chatID: "deep-1", requestHash: Self.hex(Array("{}".utf8)), responseHash: Self.hex(body), inline: false))
    }

    @Test("unsigned routes relay streams and JSON and never yield a receipt")
    func unsignedRoutes() throws {
        var machine = try Self.machine("/tokenize")
        let sent = try Self.send(&machine, body: [Array(#"{"prompt":"x"}"#.utf8)])
        #expect(sent.head.uri == "/base/tokenize")
        let json = try Self.answer(&machine, contentType: "application/json", parts: [Array(#"{"tokens":[1]}"#.utf8)])
        #expect(json.receipt == ExchangeStateMachine.Receipt.none)
        var get = try Self.machine("/v1/responses/resp_1?stream=true", method: .GET, headers: [])
        let sentGet = try Self.send(&get, body: [])
        #expect(sentGet.head.method == .GET)
        #expect(sentGet.body.isEmpty)
        let stream = try Self.answer(&get, contentType: "text/event-stream", parts: [Array("data: {}\n\n".utf8)])
        #expect(stream.receipt == ExchangeStateMachine.Receipt.none)
        #expect(stream.bytes == Array("data: {}\n\n".utf8))
    }

    @Test("a chat completion in the clear says so as the Python proxy does (X-E2EE-Applied: false); other routes and errors do not")
    func plaintextChatSaysSo() throws {
        let chat = Array(#"{"id":"chatcmpl-1","choices":[]}"#.utf8)
        for (path, contentType, body, expected) in [
            ("/v1/chat/completions", "application/json", chat, "false"),
            ("/v1/chat/completions", "text/event-stream", Array("data: {\"id\":\"chatcmpl-2\"}\n\ndata: [DONE]\n\n".utf8), "false"),
            ("/v1/completions", "application/json", Array(#"{"id":"cmpl-1","choices":[]}"#.utf8), nil),
            ("/v1/embeddings", "application/json", Array(#"{"id":"embd-1","data":[]}"#.utf8), nil),
        ] as [(String, String, [UInt8], String?)] {
            var machine = try Self.machine(path)
            _ = try Self.send(&machine, body: [Array("{}".utf8)])
            let outcome = try Self.answer(&machine, contentType: contentType, parts: [body])
            #expect(outcome.head?.status == .ok)
            #expect(outcome.head?.headers.first(name: "X-E2EE-Applied") == expected, "\(path) \(contentType)")
            #expect(outcome.bytes == body)
        }
        var failed = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&failed, body: [Array("{}".utf8)])
        let error = try Self.answer(&failed, status: .badRequest, contentType: "application/json", parts: [Array(#"{"error":{}}"#.utf8)])
        #expect(error.head?.headers.first(name: "X-E2EE-Applied") == nil)
    }

    // MARK: Upstream faults

    @Test("an upstream status that cannot carry a body is a 502, and its connection is dropped", arguments: [100, 101, 204, 304, 600, 199])
    func badStatus(_ code: Int) throws {
        var machine = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        var outcome = Outcome()
        try Self.apply(
            machine.upstreamHead(HTTPResponseHead(version: .http1_1, status: .init(statusCode: code))), to: &outcome)
        #expect(outcome.head?.status == .badGateway)
        #expect(outcome.upstream == .drop)
        #expect(outcome.notes == [.upstreamBadStatus(code)])
        // Whatever the connection still delivers changes nothing.
        #expect(machine.upstreamEnd().isNone)
    }

    @Test("error answers keep their status and JSON body; a non-JSON one gets the envelope with its status")
    func errorAnswers() throws {
        let error = try Fixtures.bytes("vllm-routes/error-responses-unknown-model.body")
        var machine = try Self.machine("/v1/responses")
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        let relayed = try Self.answer(&machine, status: .notFound, contentType: "application/json", parts: [error])
        #expect(relayed.head?.status == .notFound)
        #expect(relayed.bytes == error)
        #expect(relayed.receipt == ExchangeStateMachine.Receipt.none)
        #expect(relayed.notes == [.upstreamStatus])
        var html = try Self.machine("/v1/messages", headers: [("Content-Type", "application/json")])
        _ = try Self.send(&html, body: [Array("{}".utf8)])
        let enveloped = try Self.answer(&html, status: .serviceUnavailable, contentType: "text/html", parts: [Array("<html>".utf8)])
        #expect(enveloped.head?.status == .serviceUnavailable)
        // The Messages route's clients parse Anthropic's envelope.
        #expect(String(decoding: enveloped.bytes, as: UTF8.self).contains(#""type":"error""#))
    }

    @Test("a 200 that is neither JSON nor SSE is a 502, except where the route relays other bodies")
    func notJSON() throws {
        var machine = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        let refused = try Self.answer(&machine, contentType: "text/plain", parts: [Array("hello".utf8)])
        #expect(refused.head?.status == .badGateway)
        #expect(refused.notes.contains(.upstreamNotJSON))
        var audio = try Self.machine("/v1/audio/transcriptions", headers: [("Content-Type", "multipart/form-data; boundary=xyz")])
        let sent = try Self.send(&audio, body: [Array("--xyz--\r\n".utf8)])
        #expect(sent.head.headers.first(name: "content-type") == "multipart/form-data; boundary=xyz")
        let relayed = try Self.answer(&audio, contentType: "text/plain; charset=utf-8", parts: [Array("hello".utf8)])
        #expect(relayed.head?.status == .ok)
        #expect(relayed.head?.headers.first(name: "content-type") == "text/plain; charset=utf-8")
        #expect(relayed.bytes == Array("hello".utf8))
        #expect(relayed.receipt == ExchangeStateMachine.Receipt.none)
    }

    @Test("a buffered answer over the limit is a 502 and its connection dropped, at the chunk that crosses it")
    func overLimit() throws {
        var machine = try Self.machine("/v1/embeddings")
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        let chunk = [UInt8](repeating: UInt8(ascii: " "), count: 4096)
        let outcome = try Self.answer(&machine, contentType: "application/json", parts: Array(repeating: chunk, count: 5), end: false)
        #expect(outcome.head?.status == .badGateway)
        #expect(outcome.upstream == .drop)
        #expect(outcome.notes.contains(.upstreamOverLimit))
    }

    @Test("a kept-alive connection closed before any answer is retried once on a fresh one, with the same body")
    func retry() throws {
        var machine = try Self.machine("/v1/chat/completions")
        let body = Array(#"{"model":"m"}"#.utf8)
        #expect(machine.requestHead(declaresBody: true).isNone)
        #expect(machine.requestBody(Self.buffer(body)).isNone)
        guard case .connectUpstream(fresh: false, model: "m") = machine.requestEnd(now: .uptimeNanoseconds(0)) else {
            throw Unexpected("no connect for model m")
        }
        guard case .sendUpstream(_, let first) = machine.upstreamConnected(reused: true) else { throw Unexpected("not sent") }
        #expect(first.map { Array($0.readableBytesView) } == body)
        guard case .connectUpstream(fresh: true, model: "m") = machine.upstreamClosed(nil) else { throw Unexpected("no retry") }
        guard case .sendUpstream(_, let second) = machine.upstreamConnected(reused: false) else { throw Unexpected("not resent") }
        #expect(second.map { Array($0.readableBytesView) } == body)
        // A second close is the upstream's failure: no third try.
        var outcome = Outcome()
        try Self.apply(machine.upstreamClosed(nil), to: &outcome)
        #expect(outcome.head?.status == .badGateway)
        #expect(outcome.notes == [.upstreamUnavailable("connection closed")])
    }

    @Test("the request's top-level model picks the backend; anything else is no model")
    func model() throws {
        let cases: [(String, String?)] = [
            (#"{"model":"chat-1","messages":[]}"#, "chat-1"), (#"{"model":"\u0065mb"}"#, "emb"), (#"{"messages":[{"model":"x"}]}"#, nil),
            (#"{"model":5}"#, nil), (#"{"model":""}"#, nil), (#"{"model":"a","model":"b"}"#, nil),
        ]
        for (body, expected) in cases {
            var machine = try Self.machine("/v1/chat/completions")
            #expect(machine.requestHead(declaresBody: true).isNone)
            #expect(machine.requestBody(Self.buffer(Array(body.utf8))).isNone)
            guard case .connectUpstream(_, let model) = machine.requestEnd(now: .uptimeNanoseconds(0)) else {
                throw Unexpected("no connect for \(body)")
            }
            #expect(model == expected, "\(body)")
        }
    }

    @Test("a fresh connection closed before any answer is not retried")
    func noRetryOnFresh() throws {
        var machine = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        var outcome = Outcome()
        try Self.apply(machine.upstreamClosed("refused"), to: &outcome)
        #expect(outcome.head?.status == .badGateway)
    }

    @Test("no connection at all is a 502 in the route's envelope")
    func connectFailed() throws {
        var machine = try Self.machine("/v1/messages")
        #expect(machine.requestHead(declaresBody: true).isNone)
        #expect(machine.requestBody(Self.buffer(Array("{}".utf8))).isNone)
        _ = machine.requestEnd(now: .uptimeNanoseconds(0))
        var outcome = Outcome()
        try Self.apply(machine.upstreamConnectFailed("refused"), to: &outcome)
        #expect(outcome.head?.status == .badGateway)
        #expect(outcome.upstream == .keep)
        #expect(String(decoding: outcome.bytes, as: UTF8.self).contains(#""type":"error""#))
    }

    @Test("timeouts: before the head or any streamed byte a 504; mid-stream the client connection is abandoned")
    func timeouts() throws {
        var waiting = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&waiting, body: [Array("{}".utf8)])
        var outcome = Outcome()
        try Self.apply(waiting.upstreamTimedOut(), to: &outcome)
        #expect(outcome.head?.status == .gatewayTimeout)
        #expect(outcome.upstream == .drop)

        var silent = try Self.machine("/v1/responses")
        _ = try Self.send(&silent, body: [Array("{}".utf8)])
        // A head and no byte: nothing forwarded yet, so the 504 can still be sent.
        var early = try Self.answer(&silent, contentType: "text/event-stream", parts: [], end: false)
        try Self.apply(silent.upstreamTimedOut(), to: &early)
        #expect(early.head?.status == .gatewayTimeout)

        var streaming = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&streaming, body: [Array("{}".utf8)])
        var mid = try Self.answer(&streaming, contentType: "text/event-stream", parts: [Array("data: {\"id\":\"c\"}\n\n".utf8)], end: false)
        #expect(mid.head?.status == .ok)
        try Self.apply(streaming.upstreamTimedOut(), to: &mid)
        #expect(mid.abandoned)
        #expect(mid.notes.contains(.silentMidStream))
        #expect(mid.receipt == nil)
    }

    // MARK: Client events

    @Test("a client that leaves mid-stream abandons it: no receipt, the upstream dropped, later events ignored")
    func clientLeaves() throws {
        var machine = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        var outcome = try Self.answer(&machine, contentType: "text/event-stream", parts: [Array("data: {\"id\":\"c\"}\n\n".utf8)], end: false)
        try Self.apply(machine.clientClosed(), to: &outcome)
        #expect(outcome.abandoned)
        #expect(outcome.upstream == .drop)
        #expect(outcome.notes.contains(.clientLeft))
        #expect(machine.upstreamBody(Self.buffer(Array("data: [DONE]\n\n".utf8))).isNone)
        #expect(machine.upstreamEnd().isNone)
        #expect(machine.clientClosed().isNone)
    }

    @Test("a connection that arrives after the client left goes back to the pool unused")
    func leftWhileConnecting() throws {
        var machine = try Self.machine("/v1/chat/completions")
        #expect(machine.requestHead(declaresBody: true).isNone)
        #expect(machine.requestBody(Self.buffer(Array("{}".utf8))).isNone)
        _ = machine.requestEnd(now: .uptimeNanoseconds(0))
        guard case .abandon(.drop, .clientLeft) = machine.clientClosed() else { throw Unexpected("not abandoned") }
        guard case .releaseUnusedConnection = machine.upstreamConnected(reused: true) else { throw Unexpected("connection kept") }
    }

    @Test("back-pressure: upstream reads follow the client's writability only while a stream is relayed")
    func writability() throws {
        var machine = try Self.machine("/v1/chat/completions")
        #expect(machine.clientWritabilityChanged(false).isNone)
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        _ = try Self.answer(&machine, contentType: "text/event-stream", parts: [], end: false)
        guard case .pauseUpstreamReads = machine.clientWritabilityChanged(false) else { throw Unexpected("not paused") }
        guard case .resumeUpstreamReads = machine.clientWritabilityChanged(true) else { throw Unexpected("not resumed") }
    }

    @Test("HTTP/1.0 and Connection: close: a stream says so and the connection closes after it")
    func closing() throws {
        var old = try Self.machine("/v1/chat/completions", version: .http1_0)
        _ = try Self.send(&old, body: [Array("{}".utf8)])
        let body = try Fixtures.bytes("vllm/chat-stream.body")
        let outcome = try Self.answer(&old, contentType: "text/event-stream", parts: [body])
        #expect(outcome.close == true)
        #expect(outcome.head?.headers.first(name: "connection") == "close")
        #expect(outcome.head?.version == .http1_0)
        var keep = try Self.machine("/v1/chat/completions")
        _ = try Self.send(&keep, body: [Array("{}".utf8)])
        let kept = try Self.answer(&keep, contentType: "text/event-stream", parts: [body], keepAlive: false)
        // The upstream's close is its own: the client's connection stays, the upstream one is not reused.
        #expect(kept.close == false)
        #expect(kept.upstream == .release(reusable: false))
    }

    // MARK: Requests

    @Test("refusals at the head, before a body byte is read")
    func headRefusals() throws {
        func refusal(_ machine: inout ExchangeStateMachine, declaresBody: Bool = true) -> OpenAIError? {
            if case .refuse(let error) = machine.requestHead(declaresBody: declaresBody) { return error }
            return nil
        }
        var unauthenticated = try Self.machine("/v1/chat/completions", authentication: .missingAuthorization)
        #expect(refusal(&unauthenticated) == .missingAuthorization)
        var noBody = try Self.machine("/v1/responses/resp_1/cancel", method: .POST, headers: [])
        #expect(refusal(&noBody) == .bodyNotAllowed)
        var notMultipart = try Self.machine("/v1/audio/transcriptions")
        #expect(refusal(&notMultipart) == .multipartRequired)
        var declaredTooLarge = try Self.machine("/v1/chat/completions", headers: [("Content-Length", "65537")])
        #expect(refusal(&declaredTooLarge) == .payloadTooLarge(limit: 64 * 1024))
        var unknown = try Self.machine("/v1/load_lora_adapter")
        #expect(refusal(&unknown) == .routeNotFound)
        var wrongMethod = try Self.machine("/v1/chat/completions", method: .PUT)
        #expect(refusal(&wrongMethod) == .methodNotAllowed)
        var models = try Self.machine("/v1/models", method: .GET)
        #expect(refusal(&models) == .bodyNotAllowed)
        // A redirect reads (and drops) its body, and answers like vLLM.
        var slash = try Self.machine("/v1/chat/completions/")
        #expect(refusal(&slash) == nil)
        #expect(slash.requestBody(Self.buffer([1, 2, 3])).isNone)
        var outcome = Outcome()
        try Self.apply(slash.requestEnd(now: .uptimeNanoseconds(0)), to: &outcome)
        #expect(outcome.head?.status == .temporaryRedirect)
        #expect(outcome.head?.headers.first(name: "location") == "/v1/chat/completions")
    }

    @Test("refusals once the request is in, in the route's envelope, never forwarded")
    func endRefusals() throws {
        func refused(_ machine: inout ExchangeStateMachine, body: String?) throws -> Outcome {
            #expect(machine.requestHead(declaresBody: body != nil).isNone)
            if let body { #expect(machine.requestBody(Self.buffer(Array(body.utf8))).isNone) }
            var outcome = Outcome()
            try Self.apply(machine.requestEnd(now: .uptimeNanoseconds(0)), to: &outcome)
            return outcome
        }
        var unauthenticated = try Self.machine("/v1/messages", authentication: .invalidToken)
        let anthropic = try refused(&unauthenticated, body: nil)
        #expect(anthropic.head?.status == .unauthorized)
        #expect(String(decoding: anthropic.bytes, as: UTF8.self).contains(#""type":"error""#))
        for bad in ["", "[1]", "{", #"{"a":1}x"#, "nul"] {
            var machine = try Self.machine("/v1/chat/completions")
            let outcome = try refused(&machine, body: bad.isEmpty ? nil : bad)
            #expect(outcome.head?.status == .badRequest, "\(bad)")
            #expect(outcome.notes == [.rejected])
        }
        var e2ee = try Self.machine("/v1/chat/completions", headers: [("X-E2EE-Version", "2")])
        #expect(try refused(&e2ee, body: "{}").bytes == Array(OpenAIError.e2eeUnsupported.envelope().readableBytesView))
        // Blank E2EE headers count as absent (docs/E2EE.md, Dispatch): the request goes on in the clear.
        var blank = try Self.machine(
            "/v1/chat/completions", headers: [("Content-Type", "application/json"), ("X-Signing-Algo", ""), ("X-E2EE-Version", " \t ")])
        #expect(ExchangeStateMachine.carriesE2EE(HTTPHeaders([("X-Signing-Algo", ""), ("X-E2EE-Nonce", " ")])) == false)
        #expect(ExchangeStateMachine.carriesE2EE(HTTPHeaders([("X-Signing-Algo", ""), ("x-e2ee-nonce", "a")])))
        #expect(try Self.send(&blank, body: [Array(#"{"model":"m"}"#.utf8)]).body == Array(#"{"model":"m"}"#.utf8))
        var badHash = try Self.machine("/v1/chat/completions", headers: [("X-Request-Hash", "abc")])
        #expect(try refused(&badHash, body: "{}").head?.status == .badRequest)
    }

    @Test("a body that outgrows the limit is refused at the part that crosses it")
    func bodyOverLimit() throws {
        var machine = try Self.machine("/v1/chat/completions", headers: [("Transfer-Encoding", "chunked")])
        #expect(machine.requestHead(declaresBody: true).isNone)
        let part = Self.buffer([UInt8](repeating: 0x20, count: 32 * 1024))
        #expect(machine.requestBody(part).isNone)
        #expect(machine.requestBody(part).isNone)
        guard case .refuse(let error) = machine.requestBody(Self.buffer([0x20])) else { throw Unexpected("not refused") }
        #expect(error == .payloadTooLarge(limit: 64 * 1024))
        // Nothing after a refusal goes upstream.
        #expect(machine.requestEnd(now: .uptimeNanoseconds(0)).isNone)
    }

    @Test("X-Request-Hash replaces the request hash, trimmed and lowercased")
    func requestHashOverride() throws {
        let given = String(repeating: "AB", count: 32)
        var machine = try Self.machine("/v1/chat/completions", headers: [("X-Request-Hash", " \(given) ")])
        _ = try Self.send(&machine, body: [Array("{}".utf8)])
        let outcome = try Self.answer(&machine, contentType: "application/json", parts: [Array(#"{"id":"x"}"#.utf8)])
        guard case .sign(_, let requestHash, _, _) = outcome.receipt else { throw Unexpected("not signed") }
        #expect(requestHash == given.lowercased())
    }

    @Test("what goes upstream: the route's method and path below the base path, no client header")
    func upstreamRequest() throws {
        var machine = try Self.machine(
            "/v1/messages", headers: [("Content-Type", "application/json"), ("x-api-key", "secret"), ("X-Request-Id", "mine")])
        let sent = try Self.send(&machine, body: [Array("{}".utf8)])
        #expect(sent.head.uri == "/base/v1/messages")
        #expect(sent.head.headers.first(name: "host") == "vllm:8000")
        #expect(!sent.head.headers.contains(name: "x-api-key"))
        #expect(!sent.head.headers.contains(name: "x-request-id"))
        var models = try Self.machine("/v1/models", method: .GET, headers: [])
        let listed = try Self.send(&models, body: [])
        #expect(listed.head.uri == "/base/v1/models")
        #expect(listed.head.method == .GET)
    }

    @Test("a HEAD request gets the answer's headers only")
    func headRequest() throws {
        var machine = try Self.machine("/nowhere", method: .HEAD, headers: [])
        var outcome = Outcome()
        #expect(machine.requestHead(declaresBody: false).isNone)
        try Self.apply(machine.requestEnd(now: .uptimeNanoseconds(0)), to: &outcome)
        #expect(outcome.head?.status == .notFound)
        #expect(outcome.head?.headers.first(name: "content-length") != "0")
        #expect(outcome.bytes.isEmpty)
    }

    @Test("inline receipts: asked for with X-Signing-Receipt, or by default on non-streamed answers when signing eagerly")
    func inlineReceipts() throws {
        func inline(_ path: String, stream: Bool, asked: String?, byDefault: Bool) throws -> Bool? {
            var settings = Self.settings
            settings.receiptHeadersByDefault = byDefault
            var headers = [("Content-Type", "application/json")]
            if let asked { headers.append((InlineReceiptFormat.requestHeader, asked)) }
            var machine = try Self.machine(path, headers: headers, settings: settings)
            _ = try Self.send(&machine, body: [Array("{}".utf8)])
            let body = stream ? try Fixtures.bytes("vllm/chat-stream.body") : try Fixtures.bytes("vllm/chat.body")
            let outcome = try Self.answer(&machine, contentType: stream ? "text/event-stream" : "application/json", parts: [body])
            guard case .sign(_, _, _, let inline) = outcome.receipt else { return nil }
            return inline
        }
        #expect(try inline("/v1/chat/completions", stream: false, asked: nil, byDefault: true) == true)
        #expect(try inline("/v1/chat/completions", stream: false, asked: nil, byDefault: false) == false)
        #expect(try inline("/v1/chat/completions", stream: false, asked: " Inline ", byDefault: false) == true)
        #expect(try inline("/v1/chat/completions", stream: true, asked: nil, byDefault: true) == false)
        #expect(try inline("/v1/chat/completions", stream: true, asked: "inline", byDefault: false) == true)
        // Any other value is refused before anything goes upstream.
        var machine = try Self.machine("/v1/chat/completions", headers: [(InlineReceiptFormat.requestHeader, "yes")])
        #expect(machine.requestHead(declaresBody: true).isNone)
        #expect(machine.requestBody(Self.buffer(Array("{}".utf8))).isNone)
        var outcome = Outcome()
        try Self.apply(machine.requestEnd(now: .uptimeNanoseconds(0)), to: &outcome)
        #expect(outcome.head?.status == .badRequest)
        #expect(String(decoding: outcome.bytes, as: UTF8.self).contains("X-Signing-Receipt"))
    }

    // MARK: Signature lookups

    @Test("a lookup whose record is being published backs off from 1 ms to 50 ms, then answers at the deadline")
    func lookupBackOff() throws {
        var machine = try Self.machine("/v1/signature/chatcmpl-1?signing_algo=ecdsa", method: .GET, headers: [])
        #expect(machine.requestHead(declaresBody: false).isNone)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        guard case .lookUpSignature("chatcmpl-1", "ecdsa", mayWait: true) = machine.requestEnd(now: start) else {
            throw Unexpected("no lookup")
        }
        var now = start
        var delays: [Int64] = []
        while true {
            guard case .retryLookup(let delay) = machine.signaturePending() else { throw Unexpected("no retry") }
            delays.append(delay.nanoseconds / 1_000_000)
            now = now + delay
            guard case .lookUpSignature(_, _, let mayWait) = machine.lookupTimerFired(now: now) else { throw Unexpected("no lookup") }
            if !mayWait { break }
        }
        #expect(Array(delays.prefix(7)) == [1, 2, 4, 8, 16, 32, 50])
        #expect(delays.dropFirst(6).allSatisfy { $0 == 50 })
        #expect(now - start >= ExchangeStateMachine.publicationWait)
        var outcome = Outcome()
        try Self.apply(machine.signatureAnswered(.failure(.chatNotFound)), to: &outcome)
        #expect(outcome.head?.status == .notFound)
        // A lookup timer that fires after the client left does nothing.
        var gone = try Self.machine("/v1/signature/x", method: .GET, headers: [])
        _ = gone.requestEnd(now: start)
        _ = gone.signaturePending()
        _ = gone.clientClosed()
        #expect(gone.lookupTimerFired(now: start).isNone)
    }
}

extension ExchangeStateMachine.Action {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }
}
