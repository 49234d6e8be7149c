import Foundation
import HarnessSupport
import Synchronization

/// Finding 3: unauthenticated clients pin memory. Connections without a token send large bodies to
/// routes that take none (`GET /v1/signature/x`, `GET /v1/models`, a wrong method), all but the last
/// byte, and hold; RSS before, while they hold, and after they leave.
struct MemoryPinningResult: Codable {
    struct Target: Codable {
        var request: String
        var connections = 0
        /// Body bytes the client managed to send (sum over connections): the proxy read them, or discarded them.
        var bytesAccepted = 0
        /// Answers received while sending, by status.
        var statuses: [String: Int] = [:]
        /// Connections the proxy closed before the client left.
        var closedByProxy = 0
    }

    var connections = 0
    var bodyBytes = 0
    var beforeBytes = 0
    var duringBytes = 0
    var afterBytes = 0
    var duringOverBeforeBytes = 0
    var targets: [Target] = []
    var toleranceBytes = 16 << 20
    var pass = false
}

enum MemoryPinningReproducer {
    static func run(proxyPort: Int, pid: Int32, connections: Int = 40, bodyBytes: Int = 10_000_000, hold: Duration = .seconds(3))
        -> MemoryPinningResult
    {
        var result = MemoryPinningResult(connections: connections, bodyBytes: bodyBytes)
        Thread.sleep(forTimeInterval: 2)
        result.beforeBytes = ProcessProbe.residentBytes(pid) ?? 0
        let heads = [
            "GET /v1/signature/x HTTP/1.1", "GET /v1/models HTTP/1.1", "DELETE /v1/chat/completions HTTP/1.1",
        ]
        let body = [UInt8](repeating: UInt8(ascii: "a"), count: bodyBytes - 1)
        let outcomes = Mutex<[(target: Int, accepted: Int, status: Int?, closed: Bool)]>([])
        let sent = DispatchSemaphore(value: 0)
        let leave = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for index in 0..<connections {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                let target = index % heads.count
                guard let socket = try? RawSocket(port: proxyPort) else {
                    sent.signal()
                    return
                }
                let head = Array("\(heads[target])\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(bodyBytes)\r\n\r\n".utf8)
                var accepted = 0
                if socket.send(head, timeout: .seconds(5)) == .done {
                    switch socket.send(body, timeout: .seconds(10)) {
                    case .done: accepted = body.count
                    case .timedOut(let count): accepted = count
                    case .failed(let count, _): accepted = count
                    }
                }
                sent.signal()
                leave.wait()
                let (bytes, ended) = socket.takeAvailable()
                var parser = HTTPResponseParser()
                parser.feed(bytes)
                let status = (parser.responses.first ?? parser.current)?.status
                outcomes.withLock { $0.append((target, accepted, status, ended)) }
                socket.close(reset: true)
            }
            thread.start()
        }
        for _ in 0..<connections { sent.wait() }
        Thread.sleep(forTimeInterval: hold.seconds)
        result.duringBytes = ProcessProbe.residentBytes(pid) ?? 0
        for _ in 0..<connections { leave.signal() }
        group.wait()
        Thread.sleep(forTimeInterval: 3)
        result.afterBytes = ProcessProbe.residentBytes(pid) ?? 0
        result.duringOverBeforeBytes = result.duringBytes - result.beforeBytes
        var targets = heads.map { MemoryPinningResult.Target(request: $0) }
        for outcome in outcomes.withLock({ $0 }) {
            targets[outcome.target].connections += 1
            targets[outcome.target].bytesAccepted += outcome.accepted
            targets[outcome.target].statuses[outcome.status.map(String.init) ?? "none", default: 0] += 1
            if outcome.closed { targets[outcome.target].closedByProxy += 1 }
        }
        result.targets = targets
        result.pass = result.duringOverBeforeBytes <= result.toleranceBytes
        return result
    }
}
