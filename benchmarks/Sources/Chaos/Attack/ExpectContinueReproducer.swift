import Foundation

/// Finding 7: `Expect: 100-continue` is never answered, so curl waits a second before sending a body over
/// 1 MB. The client sends the head, waits (bounded) for `100 Continue`, then sends the body anyway.
struct ExpectContinueResult: Codable {
    var bodyBytes = 0
    var runs = 0
    /// Runs that got `100 Continue` within the wait.
    var continued = 0
    /// Seconds from the head to the 100, per run that got one.
    var secondsToContinue: [Double] = []
    var waitSeconds = 0.0
    var finalStatuses: [String: Int] = [:]
    var pass = false
}

enum ExpectContinueReproducer {
    static func run(proxyPort: Int, runs: Int = 5, bodyBytes: Int = 2 << 20, wait: Duration = .seconds(3)) -> ExpectContinueResult {
        var result = ExpectContinueResult(bodyBytes: bodyBytes, runs: runs, waitSeconds: wait.seconds)
        let prefix = Array(#"{"model":"tiny","max_tokens":2,"messages":[{"role":"user","content":""#.utf8)
        let suffix = Array(#""}]}"#.utf8)
        let body = prefix + [UInt8](repeating: UInt8(ascii: "x"), count: bodyBytes - prefix.count - suffix.count) + suffix
        let head = Array(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(Fleet.token)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n".utf8)
        for _ in 0..<runs {
            guard let socket = try? RawSocket(port: proxyPort) else { continue }
            defer { socket.close() }
            let start = ContinuousClock.now
            _ = socket.send(head, timeout: .seconds(2))
            var parser = HTTPResponseParser()
            var finalEarly = false
            while ContinuousClock.now - start < wait, parser.interim.isEmpty {
                guard case .bytes(let bytes) = socket.receive(timeout: wait - (ContinuousClock.now - start)) else { break }
                parser.feed(bytes)
                if parser.current != nil || !parser.responses.isEmpty {
                    finalEarly = true
                    break
                }
            }
            if !parser.interim.isEmpty {
                result.continued += 1
                result.secondsToContinue.append((ContinuousClock.now - start).seconds)
            }
            if !finalEarly { _ = socket.send(body, timeout: .seconds(10)) }
            var conversation = Conversation(parser: parser)
            conversation.read(socket, policy: ReadPolicy(overall: .seconds(15)), start: ContinuousClock.now)
            let status = conversation.first.map { String($0.status) } ?? "none"
            result.finalStatuses[status, default: 0] += 1
        }
        result.pass = result.continued == runs && (result.secondsToContinue.max() ?? 99) < 0.5
        return result
    }
}
