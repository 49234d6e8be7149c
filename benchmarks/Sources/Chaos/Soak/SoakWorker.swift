import Foundation
import Synchronization

/// What the soak's clients share: settings, the stream budget, and what they found.
final class SoakState: Sendable {
    struct Settings: Sendable {
        var proxyPort: Int
        var token: String
        var deadline: ContinuousClock.Instant
        var maxStreams: Int
        var seed: UInt64
        /// Tokens of the large answers the slow readers get.
        var slowStreamTokens: Int
        var slowJSONTokens: Int
        /// Clients (of the total) that run only slow readers.
        var slowClients: Int
        /// SO_RCVBUF of a slow reader, bytes (the kernel doubles it).
        var slowReceiveBuffer: Int
        /// Most bytes a slow reader takes per read.
        var slowReadBytes: Int
        /// Sleep between two reads of a slow reader.
        var slowPause: Duration
        /// Bound on one stream, request to last byte.
        var streamBound: Duration
        /// Bound on a malformed case's answer and close.
        var malformedBound: Duration
        /// Wait before looking up the id of an answer the client did not get whole.
        var undeliveredCheckDelay: Duration
    }

    let settings: Settings
    let checker: SignatureChecker
    let started = Atomic<Int>(0)
    let records = Mutex<[StreamRecord]>([])
    let malformed = Mutex<[String: MalformedTally]>([:])
    private let seenIDs = Mutex<Set<String>>([])
    let duplicateIDs = Atomic<Int>(0)

    init(settings: Settings, checker: SignatureChecker) {
        self.settings = settings
        self.checker = checker
    }

    /// Takes one stream from the budget; false once the count or the time is spent.
    func takeStream() -> Bool {
        guard ContinuousClock.now < settings.deadline else { return false }
        return started.wrappingAdd(1, ordering: .relaxed).oldValue < settings.maxStreams
    }

    /// Records that a client got `id`; false if another client already got it (an answer meant for someone else).
    func claim(_ id: String) -> Bool {
        let fresh = seenIDs.withLock { $0.insert(id).inserted }
        if !fresh { duplicateIDs.add(1, ordering: .relaxed) }
        return fresh
    }
}

/// One stream as its client saw it.
struct StreamRecord: Codable, Sendable {
    var kind: SoakKind
    /// A complete answer by its framing (and, when close-delimited, whole by its content).
    var completed = false
    var status: Int?
    var verdict = SignatureVerdict.noID
    var bytes = 0
    var left = false
    var serverClosed = false
    var reset = false
    var timedOut = false
    var reusedConnection = false
    var milliseconds = 0.0
    var id: String?
    /// FNV-1a 64 of the request body, matched against the upstream's request log.
    var requestFNV: String?
    var detail: String?
}

/// Counts for one malformed case across the soak.
struct MalformedTally: Codable, Sendable {
    var runs = 0
    var passed = 0
    var foreignAnswers = 0
    var statuses: [String: Int] = [:]
    var closed = 0
    var firstProblem: String?
}

/// One client thread of the soak: picks a kind, runs it, judges it, repeats until the budget is spent.
struct SoakWorker {
    let index: Int
    let state: SoakState
    private var random: SplitMix64
    private var idle: RawSocket?
    private var deferred: [(due: ContinuousClock.Instant, record: StreamRecord)] = []
    private var local: [StreamRecord] = []
    private var sequence = 0
    private let cases: [MalformedCase]

    init(index: Int, state: SoakState) {
        self.index = index
        self.state = state
        self.random = SplitMix64(seed: state.settings.seed &+ UInt64(index) &* 0x1000_0000_01B3)
        self.cases = MalformedCase.catalogue(token: state.settings.token)
    }

    mutating func run() {
        while state.takeStream() {
            settleDeferred(all: false)
            let kind = SoakKind.pick(&random, slowReader: index < state.settings.slowClients)
            if kind == .malformed {
                runMalformed()
            } else {
                let record = runCompletion(kind)
                if record.completed || record.id == nil {
                    local.append(record)
                } else {
                    deferred.append((ContinuousClock.now + state.settings.undeliveredCheckDelay, record))
                }
            }
            if local.count >= 256 { flush() }
        }
        idle?.close()
        idle = nil
        settleDeferred(all: true)
        flush()
    }

    private mutating func flush() {
        let batch = local
        local = []
        state.records.withLock { $0 += batch }
    }

    /// Looks up the ids of answers the clients did not get whole, once their delay has passed.
    private mutating func settleDeferred(all: Bool) {
        while let first = deferred.first {
            let now = ContinuousClock.now
            if first.due > now {
                guard all else { return }
                Thread.sleep(forTimeInterval: (first.due - now).seconds)
            }
            deferred.removeFirst()
            var record = first.record
            let (verdict, detail) = state.checker.judgeUndelivered(id: record.id ?? "")
            record.verdict = verdict
            if !detail.isEmpty { record.detail = [record.detail, detail].compactMap { $0 }.joined(separator: "; ") }
            local.append(record)
        }
    }

    // MARK: Completions

    private mutating func runCompletion(_ kind: SoakKind) -> StreamRecord {
        sequence += 1
        let settings = state.settings
        var record = StreamRecord(kind: kind)
        let content = "soak w\(index) n\(sequence) r\(random.next() % 1_000_000)"
        var maxTokens = random.int(1...48)
        var failAfter: Int?
        var delayMs: Int?
        var close = false
        var http10 = false
        var receiveBuffer: Int?
        var policy = ReadPolicy(overall: settings.streamBound)
        switch kind {
        case .pacedStream:
            maxTokens = random.int(5...30)
            delayMs = random.int(2...15)
        case .leaveStream:
            let events = maxTokens + 2  // role, tokens, [DONE]
            if random.chance(0.6) {
                policy.leaveWhen = { parser in Self.beforeDone(parser) }
                record.detail = "leave before [DONE]"
            } else {
                let after = random.int(0...(events - 1))
                policy.leaveWhen = { parser in Self.events(parser) >= after && parser.current != nil }
                record.detail = "leave after \(after) events"
            }
        case .leaveJSON:
            maxTokens = random.int(200...4000)
            let fraction = random.chance(0.5) ? 0.0 : Double(random.int(1...95)) / 100
            policy.leaveWhen = { parser in
                guard let current = parser.current, let length = current.header("content-length").flatMap(Int.init) else {
                    return false
                }
                return Double(current.body.count) >= fraction * Double(length)
            }
            record.detail = "leave at \(Int(fraction * 100))% of the body"
        case .upstreamCutStream:
            failAfter = random.int(0...(maxTokens + 2))
            record.detail = "upstream cut after \(failAfter ?? 0) of \(maxTokens + 2) events"
        case .upstreamCutJSON:
            failAfter = 0
            record.detail = "upstream cut after the head"
        case .slowCloseStream, .slowHTTP10Stream:
            maxTokens = settings.slowStreamTokens
        case .slowCloseJSON, .slowHTTP10JSON:
            maxTokens = settings.slowJSONTokens
        default:
            break
        }
        switch kind {
        case .slowCloseStream, .slowCloseJSON, .slowHTTP10Stream, .slowHTTP10JSON:
            close = kind == .slowCloseStream || kind == .slowCloseJSON
            http10 = !close
            receiveBuffer = settings.slowReceiveBuffer
            policy.readLimit = settings.slowReadBytes
            policy.pause = settings.slowPause
        default:
            break
        }
        let body = RawRequest.completionBody(
            content: content, stream: kind.isStream, maxTokens: maxTokens, failAfter: failAfter, delayMs: delayMs)
        record.requestFNV = UpstreamRequest.fnv1a64(body)
        let request = RawRequest.post(body: body, token: settings.token, close: close, http10: http10)

        // Plain kinds may reuse the previous keep-alive connection; everything else starts afresh.
        var socket: RawSocket?
        if kind == .stream || kind == .json, let kept = idle, random.chance(0.5) {
            socket = kept
            record.reusedConnection = true
        } else {
            idle?.close()
        }
        idle = nil
        var conversation: Conversation?
        for attempt in 0..<2 {
            if socket == nil {
                do {
                    socket = try RawSocket(port: settings.proxyPort, receiveBuffer: receiveBuffer)
                } catch {
                    record.detail = "connect failed: \(error)"
                    return record
                }
                if attempt > 0 { record.reusedConnection = false }
            }
            let result = Conversation.exchange(socket!, request: request, policy: policy)
            // A kept connection the server closed while idle (keep-alive timeout) gets one fresh try.
            if record.reusedConnection, attempt == 0, result.parser.receivedBytes == 0, result.serverClosed || result.reset {
                socket?.close()
                socket = nil
                continue
            }
            conversation = result
            break
        }
        guard let conversation, let socket else { return record }
        judge(&record, conversation, body: body)
        if record.completed && record.status == 200 && (kind == .stream || kind == .json)
            && !conversation.serverClosed && !conversation.reset && conversation.first?.closes == false
        {
            idle = socket
        } else {
            socket.close(reset: conversation.left)
        }
        return record
    }

    private func judge(_ record: inout StreamRecord, _ conversation: Conversation, body: [UInt8]) {
        record.left = conversation.left
        record.serverClosed = conversation.serverClosed
        record.reset = conversation.reset
        record.timedOut = conversation.timedOut
        record.milliseconds = conversation.elapsed.seconds * 1000
        guard let response = conversation.first else {
            record.detail = [record.detail, "no answer"].compactMap { $0 }.joined(separator: "; ")
            return
        }
        record.status = response.status
        record.bytes = response.body.count
        var whole = response.complete
        if whole && response.framing == .untilClose {
            // A close-delimited body is whole only if its content is: [DONE] last, or a JSON document.
            whole = record.kind.isStream
                ? BodyScan.endsWithDone(response.body)
                : (try? JSONSerialization.jsonObject(with: Data(response.body))) != nil
        }
        record.completed = whole
        guard response.status == 200, let id = BodyScan.firstID(response.body) else { return }
        record.id = id
        if !state.claim(id) {
            record.detail = [record.detail, "id \(id) already given to another client"].compactMap { $0 }.joined(separator: "; ")
        }
        if record.kind.isStream, BodyScan.ids(response.body).count > 1 {
            record.detail = [record.detail, "several ids in one stream"].compactMap { $0 }.joined(separator: "; ")
        }
        if whole {
            let (verdict, detail) = state.checker.judgeDelivered(id: id, request: body, response: response.body)
            record.verdict = verdict
            if !detail.isEmpty { record.detail = [record.detail, detail].compactMap { $0 }.joined(separator: "; ") }
        }
    }

    // MARK: Malformed

    private mutating func runMalformed() {
        let testCase = cases[random.int(0...(cases.count - 1))]
        let outcome = MalformedOutcome.run(testCase, port: state.settings.proxyPort, bound: state.settings.malformedBound)
        state.malformed.withLock { table in
            var tally = table[testCase.name] ?? MalformedTally()
            tally.runs += 1
            if outcome.pass { tally.passed += 1 }
            if outcome.foreignAnswer { tally.foreignAnswers += 1 }
            if outcome.closed { tally.closed += 1 }
            let key = outcome.statuses.isEmpty ? "none" : outcome.statuses.map(String.init).joined(separator: "+")
            tally.statuses[key, default: 0] += 1
            if tally.firstProblem == nil, let problem = outcome.problems.first { tally.firstProblem = problem }
            table[testCase.name] = tally
        }
    }

    // MARK: Leave points

    /// The final token event has arrived and `[DONE]` has not.
    static func beforeDone(_ parser: HTTPResponseParser) -> Bool {
        guard let body = parser.current?.body, body.count >= 2, body.suffix(2).elementsEqual([0x0A, 0x0A]) else { return false }
        let tail = Array(body.suffix(1024))
        return BodyScan.contains(#""finish_reason":"length""#, in: tail) && !BodyScan.contains("[DONE]", in: tail)
    }

    /// Complete SSE events received so far in the current answer.
    static func events(_ parser: HTTPResponseParser) -> Int {
        guard let body = parser.current?.body else { return 0 }
        var count = 0
        var index = 1
        while index < body.count {
            if body[index] == 0x0A && body[index - 1] == 0x0A { count += 1 }
            index += 1
        }
        return count
    }
}
