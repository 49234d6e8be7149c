import Foundation

/// Finding 4: no timeouts. Slowloris connections (a request head, one byte a second), slow request bodies
/// (one byte a second) and idle keep-alive connections, all at once; how long until the proxy closes each,
/// and whether it keeps serving meanwhile.
struct SlowClientsResult: Codable {
    struct Group: Codable {
        var name: String
        var connections = 0
        var opened = 0
        /// Closed (or reset) by the proxy within the observation window.
        var closed = 0
        var answered: [String: Int] = [:]
        var closeSecondsP50: Double?
        var closeSecondsMax: Double?
        /// The bound a fixed proxy meets: its timeout for this group plus slack.
        var boundSeconds: Double
        var closedWithinBound = 0
        var pass = false
    }

    var observeSeconds = 0.0
    var groups: [Group] = []
    /// `/health` answers during the attack (a fresh connection every 2 s): answered / asked, worst seconds.
    var healthAnswered = 0
    var healthAsked = 0
    var healthWorstSeconds = 0.0
    var pass = false
}

enum SlowClientsReproducer {
    private final class Client {
        let group: Int
        let socket: RawSocket
        let script: [UInt8]
        var offset = 0
        var closedAt: Double?
        var received: [UInt8] = []

        init(group: Int, socket: RawSocket, script: [UInt8]) {
            self.group = group
            self.socket = socket
            self.script = script
        }
    }

    /// - Parameters:
    ///   - bounds: per group (slowloris, slow body, idle keep-alive), the seconds a fixed proxy needs at most.
    static func run(
        proxyPort: Int, slowloris: Int, slowBodies: Int, idle: Int, observe: Duration, bounds: [Double]
    ) -> SlowClientsResult {
        var result = SlowClientsResult(observeSeconds: observe.seconds)
        let names = ["slowloris (head, 1 byte/s)", "slow body (POST, 1 byte/s)", "idle keep-alive (after one /health)"]
        var groups = names.enumerated().map { SlowClientsResult.Group(name: $0.element, boundSeconds: bounds[$0.offset]) }
        groups[0].connections = slowloris
        groups[1].connections = slowBodies
        groups[2].connections = idle
        // Scripts: what each connection trickles, one byte per second, after its first burst.
        let longHead = Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: \(String(repeating: "a", count: 4000))\r\n\r\n".utf8)
        let slowPost = Array(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(Fleet.token)\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"messages\":\"".utf8)
        var clients: [Client] = []
        let start = ContinuousClock.now
        func now() -> Double { (ContinuousClock.now - start).seconds }
        for group in 0..<3 {
            for _ in 0..<groups[group].connections {
                guard let socket = try? RawSocket(port: proxyPort) else { continue }
                groups[group].opened += 1
                let client: Client
                switch group {
                case 0:
                    client = Client(group: 0, socket: socket, script: longHead)
                case 1:
                    // The head at once, then the body a byte a second.
                    client = Client(group: 1, socket: socket, script: slowPost + [UInt8](repeating: UInt8(ascii: "b"), count: 4000))
                    let headLength = slowPost.count - 13
                    _ = socket.send(Array(slowPost[0..<headLength]), timeout: .seconds(2))
                    client.offset = headLength
                default:
                    client = Client(group: 2, socket: socket, script: [])
                    let conversation = Conversation.exchange(
                        socket, request: RawRequest.get("/health", token: nil), policy: ReadPolicy(overall: .seconds(5)))
                    if conversation.serverClosed || conversation.reset { client.closedAt = now() }
                }
                clients.append(client)
            }
        }
        var lastTrickle = -1.0
        var lastHealth = -2.0
        while now() < observe.seconds {
            let open = clients.filter { $0.closedAt == nil }
            if open.isEmpty { break }
            if now() - lastTrickle >= 1 {
                lastTrickle = now()
                for client in open where client.offset < client.script.count {
                    if case .failed = client.socket.send([client.script[client.offset]], timeout: .milliseconds(50)) {
                        client.closedAt = now()
                    }
                    client.offset += 1
                }
            }
            if now() - lastHealth >= 2 {
                lastHealth = now()
                result.healthAsked += 1
                if let (status, _, seconds) = ProxyProbe.get(port: proxyPort, timeout: .seconds(2)), status == 200 {
                    result.healthAnswered += 1
                    result.healthWorstSeconds = max(result.healthWorstSeconds, seconds)
                } else {
                    result.healthWorstSeconds = max(result.healthWorstSeconds, 2)
                }
            }
            // Who closed: poll every open descriptor for a hang-up or an answer.
            var entries = open.map { pollfd(fd: $0.socket.descriptor, events: Int16(POLLIN), revents: 0) }
            _ = poll(&entries, nfds_t(entries.count), 100)
            for (index, entry) in entries.enumerated() where entry.revents != 0 {
                let client = open[index]
                let (bytes, ended) = client.socket.takeAvailable()
                client.received += bytes
                if ended || entry.revents & Int16(POLLHUP | POLLERR) != 0 { client.closedAt = now() }
            }
        }
        for client in clients {
            var parser = HTTPResponseParser()
            parser.feed(client.received)
            if let status = (parser.responses.first ?? parser.current)?.status {
                groups[client.group].answered[String(status), default: 0] += 1
            }
            client.socket.close(reset: true)
        }
        for group in 0..<3 {
            let times = clients.filter { $0.group == group }.compactMap(\.closedAt).sorted()
            groups[group].closed = times.count
            groups[group].closeSecondsP50 = times.isEmpty ? nil : times[times.count / 2]
            groups[group].closeSecondsMax = times.last
            groups[group].closedWithinBound = times.filter { $0 <= groups[group].boundSeconds }.count
            groups[group].pass = groups[group].opened > 0 && groups[group].closedWithinBound == groups[group].opened
        }
        result.groups = groups
        result.pass = groups.allSatisfy(\.pass) && result.healthAnswered == result.healthAsked
        return result
    }
}
