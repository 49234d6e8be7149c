import Foundation

/// How a client reads its answers.
struct ReadPolicy {
    /// Responses to wait for.
    var expectedResponses = 1
    /// The whole read, from the request's first byte.
    var overall: Duration = .seconds(30)
    /// Most bytes taken per read.
    var readLimit = 64 << 10
    /// Sleep between reads: a slow reader.
    var pause: Duration = .zero
    /// After the expected responses, keep listening this long for bytes nobody asked for.
    var afterLast: Duration = .zero
    /// Checked after every read: true makes the client leave (it first takes what has already arrived).
    var leaveWhen: ((HTTPResponseParser) -> Bool)? = nil
}

/// What one client saw on its connection: the parsed answers and how the connection ended.
struct Conversation {
    var parser: HTTPResponseParser
    /// The server closed its side (FIN).
    var serverClosed = false
    /// The connection was reset or failed.
    var reset = false
    /// Nothing more arrived before the deadline although an answer was still expected.
    var timedOut = false
    /// The client left on purpose (``ReadPolicy/leaveWhen``).
    var left = false
    /// From the request's first byte to the answer's first byte.
    var firstByte: Duration?
    /// From the request's first byte to the server's close or reset.
    var closedAfter: Duration?
    var elapsed: Duration = .zero

    var responses: [HTTPResponseParser.Response] { parser.responses }
    var first: HTTPResponseParser.Response? { parser.responses.first ?? parser.current }

    /// Sends `request` on `socket` and reads per `policy`.
    static func exchange(
        _ socket: RawSocket, request: [UInt8], policy: ReadPolicy, headRequest: Bool = false
    ) -> Conversation {
        let start = ContinuousClock.now
        var conversation = Conversation(parser: HTTPResponseParser(headRequest: headRequest))
        switch socket.send(request, timeout: policy.overall) {
        case .done:
            break
        case .timedOut:
            conversation.timedOut = true
        case .failed:
            // The server may have answered and closed before taking the whole request: read what it sent.
            break
        }
        conversation.read(socket, policy: policy, start: start)
        return conversation
    }

    /// Reads from `socket` per `policy`; `start` is when the request began.
    mutating func read(_ socket: RawSocket, policy: ReadPolicy, start: ContinuousClock.Instant) {
        let deadline = start + policy.overall
        var satisfiedAt: ContinuousClock.Instant?
        defer { elapsed = ContinuousClock.now - start }
        while true {
            let now = ContinuousClock.now
            if parser.responses.count >= policy.expectedResponses {
                let since = satisfiedAt ?? now
                satisfiedAt = since
                if now - since >= policy.afterLast { return }
            }
            if let leaveWhen = policy.leaveWhen, leaveWhen(parser) {
                let (bytes, ended) = socket.drainAndLeave()
                feed(bytes, start: start)
                if ended { noteClose(start: start, reset: false) }
                left = true
                return
            }
            var wait = deadline - now
            if let satisfiedAt { wait = min(wait, policy.afterLast - (now - satisfiedAt)) }
            guard wait > .zero else {
                if satisfiedAt == nil { timedOut = true }
                return
            }
            switch socket.receive(limit: policy.readLimit, timeout: wait) {
            case .bytes(let bytes):
                feed(bytes, start: start)
                if policy.pause > .zero { Thread.sleep(forTimeInterval: policy.pause.seconds) }
            case .eof:
                noteClose(start: start, reset: false)
                return
            case .failed:
                noteClose(start: start, reset: true)
                return
            case .timedOut:
                if satisfiedAt == nil { timedOut = true }
                return
            }
        }
    }

    private mutating func feed(_ bytes: [UInt8], start: ContinuousClock.Instant) {
        guard !bytes.isEmpty else { return }
        if firstByte == nil { firstByte = ContinuousClock.now - start }
        parser.feed(bytes)
    }

    private mutating func noteClose(start: ContinuousClock.Instant, reset: Bool) {
        closedAfter = ContinuousClock.now - start
        if reset { self.reset = true } else { serverClosed = true }
        if !reset { parser.endOfStream() }
    }
}

/// Byte searches over answer bodies.
enum BodyScan {
    /// The first `"id":"…"` value (vLLM puts the completion id first, in JSON and in every SSE event).
    static func firstID(_ body: [UInt8]) -> String? {
        guard let start = HTTPResponseParser.find(idKey, in: body, from: 0) else { return nil }
        let from = start + idKey.count
        guard let end = body[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: body[from..<end], as: UTF8.self)
    }

    /// Every distinct `"id":"…"` value in an SSE body (a stream must carry one).
    static func ids(_ body: [UInt8]) -> Set<String> {
        var found = Set<String>()
        var index = 0
        while let start = HTTPResponseParser.find(idKey, in: body, from: index) {
            let from = start + idKey.count
            guard let end = body[from...].firstIndex(of: UInt8(ascii: "\"")) else { break }
            found.insert(String(decoding: body[from..<end], as: UTF8.self))
            index = end
        }
        return found
    }

    static func contains(_ text: String, in body: [UInt8]) -> Bool {
        HTTPResponseParser.find(Array(text.utf8), in: body, from: 0) != nil
    }

    /// Whether an SSE body ends with the `[DONE]` event.
    static func endsWithDone(_ body: [UInt8]) -> Bool {
        body.count >= done.count && body.suffix(done.count).elementsEqual(done)
    }

    /// Whether `body` looks like a completion (JSON or SSE), the thing a non-completion request must never get.
    static func looksLikeCompletion(_ body: [UInt8]) -> Bool {
        contains("\"chat.completion", in: body) || contains("\"text_completion\"", in: body)
    }

    private static let idKey = Array(#""id":""#.utf8)
    static let done = Array("data: [DONE]\n\n".utf8)
}
