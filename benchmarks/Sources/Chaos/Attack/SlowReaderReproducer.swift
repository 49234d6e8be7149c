import Foundation
import Synchronization

/// Finding 6: a slow reader with `Connection: close` (or HTTP/1.0) loses the tail of a large answer, and
/// the cut answer is signed. Each mode runs many times; every run is judged like a soak stream.
struct SlowReaderResult: Codable {
    struct Mode: Codable {
        var name: String
        var runs = 0
        /// Runs that received every byte (framing complete, and whole by content when close-delimited).
        var complete = 0
        /// Runs cut short.
        var cut = 0
        var verdicts: [String: Int] = [:]
        var bytesMin = 0
        var bytesMax = 0
        var secondsP50 = 0.0
        var pass = false
    }

    var modes: [Mode] = []
    var receiveBuffer = 0
    var readBytes = 0
    var pauseMs = 0.0
    var pass = false
}

enum SlowReaderReproducer {
    static func run(
        proxyPort: Int, checker: SignatureChecker, runs: Int, jsonTokens: Int, streamTokens: Int,
        receiveBuffer: Int, readBytes: Int, pause: Duration, parallel: Int
    ) -> SlowReaderResult {
        var result = SlowReaderResult(receiveBuffer: receiveBuffer, readBytes: readBytes, pauseMs: pause.seconds * 1000)
        let modes: [(name: String, stream: Bool, http10: Bool)] = [
            ("json, Connection: close", false, false), ("stream, Connection: close", true, false),
            ("json, HTTP/1.0", false, true), ("stream, HTTP/1.0", true, true),
        ]
        for mode in modes {
            let outcomes = Mutex<[(complete: Bool, verdict: SignatureVerdict, bytes: Int, seconds: Double)]>([])
            let next = Atomic<Int>(0)
            onThreads(parallel) { _ in
                while next.wrappingAdd(1, ordering: .relaxed).oldValue < runs {
                    let body = RawRequest.completionBody(
                        content: "slow reader \(UInt64.random(in: 0...UInt64.max))", stream: mode.stream,
                        maxTokens: mode.stream ? streamTokens : jsonTokens)
                    let request = RawRequest.post(body: body, token: Fleet.token, close: !mode.http10, http10: mode.http10)
                    guard let socket = try? RawSocket(port: proxyPort, receiveBuffer: receiveBuffer) else {
                        outcomes.withLock { $0.append((false, .lookupFailed, 0, 0)) }
                        continue
                    }
                    let conversation = Conversation.exchange(
                        socket, request: request,
                        policy: ReadPolicy(overall: .seconds(120), readLimit: readBytes, pause: pause))
                    socket.close()
                    guard let response = conversation.first else {
                        outcomes.withLock { $0.append((false, .noID, 0, conversation.elapsed.seconds)) }
                        continue
                    }
                    var complete = response.complete && response.status == 200
                    if complete && response.framing == .untilClose {
                        complete = mode.stream
                            ? BodyScan.endsWithDone(response.body)
                            : (try? JSONSerialization.jsonObject(with: Data(response.body))) != nil
                    }
                    var verdict = SignatureVerdict.noID
                    if response.status == 200, let id = BodyScan.firstID(response.body) {
                        if complete {
                            verdict = checker.judgeDelivered(id: id, request: body, response: response.body).0
                        } else {
                            Thread.sleep(forTimeInterval: 1)
                            verdict = checker.judgeUndelivered(id: id).0
                        }
                    }
                    outcomes.withLock { $0.append((complete, verdict, response.body.count, conversation.elapsed.seconds)) }
                }
            }
            let all = outcomes.withLock { $0 }
            var figures = SlowReaderResult.Mode(name: mode.name, runs: all.count)
            figures.complete = all.filter(\.complete).count
            figures.cut = all.count - figures.complete
            for outcome in all { figures.verdicts[outcome.verdict.rawValue, default: 0] += 1 }
            figures.bytesMin = all.map(\.bytes).min() ?? 0
            figures.bytesMax = all.map(\.bytes).max() ?? 0
            let seconds = all.map(\.seconds).sorted()
            figures.secondsP50 = seconds.isEmpty ? 0 : seconds[seconds.count / 2]
            let bad = (figures.verdicts[SignatureVerdict.signedButUndelivered.rawValue] ?? 0)
                + (figures.verdicts[SignatureVerdict.wrong.rawValue] ?? 0) + (figures.verdicts[SignatureVerdict.missing.rawValue] ?? 0)
                + (figures.verdicts[SignatureVerdict.publishedLate.rawValue] ?? 0)
            figures.pass = bad == 0 && figures.runs == runs
            chaosLog("  slow reader, \(mode.name): \(figures.complete)/\(figures.runs) complete, verdicts \(figures.verdicts), bytes \(figures.bytesMin)...\(figures.bytesMax)")
            result.modes.append(figures)
        }
        result.pass = result.modes.allSatisfy(\.pass)
        return result
    }
}
