import Foundation

/// A malformed or smuggling-shaped request, sent alone on a fresh connection, with what a safe proxy does.
///
/// The judgement is about safety, not about one exact status: every case must be answered within the
/// bound (no hang), never with more answers than requests, never with a completion where none was asked
/// for, and the upstream must never see more requests than the client made. Framing errors must also end
/// with a 4xx and a close (`mustClose4xx`).
struct MalformedCase: Sendable {
    let name: String
    let request: [UInt8]
    /// Answers a correct server gives (2 for a valid pipelined pair).
    var answers = 1
    /// Indices of the answers that may legitimately be completions.
    var completionAllowedAt: Set<Int> = []
    /// Most requests the upstream may see because of this case.
    var maxUpstream = 0
    /// A framing error: must be answered with a 4xx, then the connection closed.
    var mustClose4xx = false
    /// Whether the request is a HEAD (its answer has no body).
    var head = false
    /// The request announces body bytes it never sends: a correct server waits for them until its body
    /// timeout (docs/API.md, Connections, timeouts and limits: 408), longer than this tool's bound, and
    /// forwards nothing. No answer within the bound is then expected, not a hang.
    var awaitsBody = false

    /// Every case, with `token` where a case needs an authenticated request.
    static func catalogue(token: String) -> [MalformedCase] {
        let auth = "Authorization: Bearer \(token)\r\n"
        let json = #"{"model":"tiny","messages":[{"role":"user","content":"case"}],"max_tokens":4}"#
        // The smuggled request takes a while upstream (as a real model would), so its answer is still on
        // its way when the pooled connection is handed to the next client.
        let slowJSON = #"{"model":"tiny","messages":[{"role":"user","content":"smuggled"}],"max_tokens":4,"mock_header_delay_ms":300}"#
        let smuggledPost = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(slowJSON.utf8.count)\r\n\r\n\(slowJSON)"
        let pipelinedPost = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
        let unauthenticatedPost = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)"
        func chunked(_ body: String) -> String {
            String(body.utf8.count, radix: 16) + "\r\n" + body + "\r\n0\r\n\r\n"
        }
        func post(_ headers: String, _ body: String) -> [UInt8] {
            Array("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n\(auth)Content-Type: application/json\r\n\(headers)\r\n\(body)".utf8)
        }
        return [
            MalformedCase(
                name: "get-models-body-is-a-request",
                request: Array("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(smuggledPost.utf8.count)\r\n\r\n\(smuggledPost)".utf8),
                maxUpstream: 1),
            MalformedCase(
                name: "get-models-chunked-body-is-a-request",
                request: Array("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n\(chunked(smuggledPost))".utf8),
                maxUpstream: 1),
            MalformedCase(
                name: "get-signature-with-body",
                request: Array("GET /v1/signature/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(smuggledPost.utf8.count)\r\n\r\n\(smuggledPost)".utf8)),
            MalformedCase(
                name: "wrong-method-with-body",
                request: Array("PUT /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(smuggledPost.utf8.count)\r\n\r\n\(smuggledPost)".utf8)),
            MalformedCase(
                name: "content-length-and-chunked",
                request: post("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", chunked(json)),
                completionAllowedAt: [0], maxUpstream: 1),
            MalformedCase(
                name: "duplicate-content-length",
                request: post("Content-Length: \(json.utf8.count)\r\nContent-Length: 3\r\n", json),
                mustClose4xx: true),
            MalformedCase(
                name: "negative-content-length",
                request: post("Content-Length: -1\r\n", json),
                mustClose4xx: true),
            MalformedCase(
                name: "content-length-over-limit",
                request: post("Content-Length: 99999999999\r\n", ""),
                mustClose4xx: true),
            MalformedCase(
                name: "bad-chunk-size",
                request: post("Transfer-Encoding: chunked\r\n", "zz\r\n\(json)\r\n0\r\n\r\n"),
                mustClose4xx: true),
            MalformedCase(
                name: "lf-only-chunk-lines",
                request: post("Transfer-Encoding: chunked\r\n", String(json.utf8.count, radix: 16) + "\n\(json)\n0\n\n"),
                completionAllowedAt: [0], maxUpstream: 1),
            MalformedCase(
                name: "overflowing-chunk-size",
                request: post("Transfer-Encoding: chunked\r\n", "fffffffffffffffffffffff\r\n\(json)\r\n0\r\n\r\n"),
                mustClose4xx: true),
            MalformedCase(
                name: "chunk-size-over-limit",
                request: post("Transfer-Encoding: chunked\r\n", "7fffffff\r\n\(json)"),
                awaitsBody: true),
            MalformedCase(
                name: "unknown-transfer-coding",
                request: post("Transfer-Encoding: xchunked\r\n", chunked(json)),
                mustClose4xx: true),
            MalformedCase(
                name: "obs-fold-header",
                request: post("Content-Length: \(json.utf8.count)\r\nX-Folded: a\r\n b\r\n", json),
                completionAllowedAt: [0], maxUpstream: 1),
            MalformedCase(
                name: "header-without-colon",
                request: post("Content-Length: \(json.utf8.count)\r\nNoColonHere\r\n", json),
                mustClose4xx: true),
            MalformedCase(
                name: "nul-in-header",
                request: post("Content-Length: \(json.utf8.count)\r\nX-Nul: a\u{0}b\r\n", json),
                mustClose4xx: true),
            MalformedCase(
                name: "request-line-garbage",
                request: Array("GARBAGE\r\n\r\n".utf8),
                mustClose4xx: true),
            MalformedCase(
                name: "unauthenticated-completion",
                request: Array(unauthenticatedPost.utf8)),
            MalformedCase(
                name: "pipelined-completion-then-models",
                request: Array((pipelinedPost + "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").utf8),
                answers: 2, completionAllowedAt: [0], maxUpstream: 2),
            MalformedCase(
                name: "chunked-completion-then-unauthenticated-post",
                request: post("Transfer-Encoding: chunked\r\n", chunked(json) + unauthenticatedPost),
                answers: 2, completionAllowedAt: [0], maxUpstream: 1),
            MalformedCase(
                name: "head-models",
                request: Array("HEAD /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8),
                maxUpstream: 1, head: true),
            MalformedCase(
                name: "absolute-form-target",
                request: Array("GET http://127.0.0.2/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8),
                maxUpstream: 1),
        ]
    }
}

/// What one malformed case got.
struct MalformedOutcome: Codable, Sendable {
    var name: String
    var statuses: [Int] = []
    /// The server closed (or reset) the connection within the bound.
    var closed = false
    var answeredMs: Double?
    var closedMs: Double?
    /// More answers than requests, or a completion where none was asked for.
    var foreignAnswer = false
    /// Every 4xx answer carried the API's error envelope (`{"error":{…}}`).
    var errorEnvelopes = true
    /// Requests the upstream logged during the case (attack runs only; the soak shares its upstream).
    var upstreamRequests: Int?
    var upstreamSummary: [String]?
    var problems: [String] = []
    var pass: Bool { problems.isEmpty }

    enum CodingKeys: String, CodingKey {
        case name, statuses, closed, answeredMs, closedMs, foreignAnswer, errorEnvelopes, upstreamRequests, upstreamSummary, problems, pass
    }

    init(name: String) {
        self.name = name
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(statuses, forKey: .statuses)
        try container.encode(closed, forKey: .closed)
        try container.encodeIfPresent(answeredMs, forKey: .answeredMs)
        try container.encodeIfPresent(closedMs, forKey: .closedMs)
        try container.encode(foreignAnswer, forKey: .foreignAnswer)
        try container.encode(errorEnvelopes, forKey: .errorEnvelopes)
        try container.encodeIfPresent(upstreamRequests, forKey: .upstreamRequests)
        try container.encodeIfPresent(upstreamSummary, forKey: .upstreamSummary)
        try container.encode(problems, forKey: .problems)
        try container.encode(pass, forKey: .pass)
    }

    /// Sends `testCase` to the proxy on `port` and judges the answers (upstream checks are the caller's).
    static func run(_ testCase: MalformedCase, port: Int, bound: Duration) -> MalformedOutcome {
        var outcome = MalformedOutcome(name: testCase.name)
        guard let socket = try? RawSocket(port: port) else {
            outcome.problems.append("could not connect")
            return outcome
        }
        defer { socket.close(reset: true) }
        let policy = ReadPolicy(expectedResponses: testCase.answers, overall: bound, afterLast: .milliseconds(300))
        var conversation = Conversation.exchange(socket, request: testCase.request, policy: policy, headRequest: testCase.head)
        if !conversation.serverClosed && !conversation.reset && !conversation.responses.isEmpty {
            // Answered and still open: does it close within the bound (it must after a framing error)?
            let waitStart = ContinuousClock.now
            if socket.peerClosed(within: bound) {
                conversation.closedAfter = conversation.elapsed + (ContinuousClock.now - waitStart)
                conversation.serverClosed = true
            }
        }
        outcome.statuses = conversation.responses.map(\.status)
        outcome.closed = conversation.serverClosed || conversation.reset
        outcome.answeredMs = conversation.firstByte.map { $0.seconds * 1000 }
        outcome.closedMs = conversation.closedAfter.map { $0.seconds * 1000 }
        if conversation.responses.isEmpty && !(testCase.awaitsBody && !outcome.closed) {
            outcome.problems.append(
                outcome.closed ? "closed without an answer" : "no answer and no close within \(bound)")
        }
        if conversation.parser.error != nil {
            outcome.problems.append("unparseable answer: \(conversation.parser.error ?? "")")
        }
        if conversation.responses.count > testCase.answers {
            outcome.foreignAnswer = true
            outcome.problems.append("\(conversation.responses.count) answers to \(testCase.answers) request(s)")
        }
        for (index, response) in conversation.responses.enumerated()
        where !testCase.completionAllowedAt.contains(index) && BodyScan.looksLikeCompletion(response.body) {
            outcome.foreignAnswer = true
            outcome.problems.append("answer \(index) (status \(response.status)) is a completion nobody asked for")
        }
        for response in conversation.responses where (400...499).contains(response.status) {
            let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
            if object?["error"] as? [String: Any] == nil { outcome.errorEnvelopes = false }
        }
        if testCase.mustClose4xx, let first = conversation.responses.first {
            if !(400...499).contains(first.status) { outcome.problems.append("framing error answered \(first.status), not 4xx") }
            if !outcome.closed { outcome.problems.append("not closed within \(bound) after the 4xx") }
            if !outcome.errorEnvelopes { outcome.problems.append("4xx without the error envelope") }
        }
        return outcome
    }
}
