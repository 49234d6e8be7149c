import Foundation

/// Finding 4, second half: connections over the cap (`VLLM_PROXY_MAX_CONNECTIONS`) and at the open-file
/// limit. Idle connections fill the proxy, then new clients ask for `/health`: are they refused or closed
/// promptly (not left hanging), and does the proxy serve again once the idle ones leave?
struct ConnectionCapResult: Codable {
    var scenario: String
    var held = 0
    var heldOpened = 0
    var extra = 0
    /// Extra clients answered, by status (within the wait).
    var extraStatuses: [String: Int] = [:]
    /// Extra clients closed without an answer within the wait.
    var extraClosedWithoutAnswer = 0
    /// Extra clients with neither an answer nor a close within the wait.
    var extraHanging = 0
    var waitSeconds = 0.0
    /// `/health` once the held connections have left: status and seconds.
    var afterReleaseStatus: Int?
    var afterReleaseSeconds: Double?
    var pass = false
}

enum ConnectionCapReproducer {
    /// - Parameter expectRefusal: the extra clients are over a configured cap, so none may be served
    ///   (at the open-file limit, serving them by shedding idle connections is fine too).
    static func run(
        scenario: String, proxyPort: Int, held: Int, extra: Int, wait: Duration = .seconds(3), warmHeld: Bool,
        expectRefusal: Bool
    ) -> ConnectionCapResult {
        var result = ConnectionCapResult(scenario: scenario, held: held, extra: extra, waitSeconds: wait.seconds)
        var holders: [RawSocket] = []
        for _ in 0..<held {
            guard let socket = try? RawSocket(port: proxyPort, timeout: .seconds(2)) else { continue }
            if warmHeld {
                // One request each, so the connection is established in the proxy, then idle keep-alive.
                _ = Conversation.exchange(socket, request: RawRequest.get("/health", token: nil), policy: ReadPolicy(overall: .seconds(2)))
            }
            holders.append(socket)
        }
        result.heldOpened = holders.count
        Thread.sleep(forTimeInterval: 0.5)
        var extras: [RawSocket] = []
        for _ in 0..<extra {
            guard let socket = try? RawSocket(port: proxyPort, timeout: .seconds(2)) else {
                result.extraClosedWithoutAnswer += 1
                continue
            }
            _ = socket.send(RawRequest.get("/health", token: nil), timeout: .seconds(1))
            extras.append(socket)
        }
        let start = ContinuousClock.now
        var parsers = [HTTPResponseParser](repeating: HTTPResponseParser(), count: extras.count)
        var ended = [Bool](repeating: false, count: extras.count)
        while ContinuousClock.now - start < wait {
            var pending = false
            for (index, socket) in extras.enumerated() where !ended[index] && parsers[index].responses.isEmpty {
                pending = true
                let (bytes, closed) = socket.takeAvailable()
                parsers[index].feed(bytes)
                if closed { ended[index] = true }
            }
            if !pending { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        for index in extras.indices {
            if let status = (parsers[index].responses.first ?? parsers[index].current)?.status {
                result.extraStatuses[String(status), default: 0] += 1
            } else if ended[index] {
                result.extraClosedWithoutAnswer += 1
            } else {
                result.extraHanging += 1
            }
            extras[index].close(reset: true)
        }
        for socket in holders { socket.close(reset: true) }
        Thread.sleep(forTimeInterval: 1)
        if let (status, _, seconds) = ProxyProbe.get(port: proxyPort, timeout: .seconds(5)) {
            result.afterReleaseStatus = status
            result.afterReleaseSeconds = seconds
        }
        let served = result.extraStatuses["200"] ?? 0
        result.pass = result.extraHanging == 0 && (!expectRefusal || served == 0) && result.afterReleaseStatus == 200
        return result
    }
}
