import Foundation

/// Small questions to a running proxy: is it serving, what do its counters say.
enum ProxyProbe {
    /// `GET path` on a fresh connection: the status and how long the answer took; nil when none came
    /// within `timeout`.
    static func get(port: Int, path: String = "/health", token: String? = nil, timeout: Duration = .seconds(5))
        -> (status: Int, body: [UInt8], seconds: Double)?
    {
        let start = ContinuousClock.now
        guard let socket = try? RawSocket(port: port, timeout: timeout) else { return nil }
        defer { socket.close() }
        let conversation = Conversation.exchange(
            socket, request: RawRequest.get(path, token: token, close: true), policy: ReadPolicy(overall: timeout))
        guard let response = conversation.responses.first else { return nil }
        return (response.status, response.body, (ContinuousClock.now - start).seconds)
    }

    /// The proxy's `signing_proxy_*` counters from `/metrics`.
    static func metrics(port: Int) -> [String: Double] {
        guard let (status, body, _) = get(port: port, path: "/metrics"), status == 200 else { return [:] }
        var values: [String: Double] = [:]
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where line.hasPrefix("signing_proxy_") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[parts.count - 1]) else { continue }
            values[String(parts[0])] = value
        }
        return values
    }

    /// One clean non-streamed completion; returns its status (nil when no answer).
    static func completion(port: Int, token: String, content: String = "probe") -> Int? {
        guard let socket = try? RawSocket(port: port) else { return nil }
        defer { socket.close() }
        let body = RawRequest.completionBody(content: content, stream: false, maxTokens: 4)
        let conversation = Conversation.exchange(
            socket, request: RawRequest.post(body: body, token: token, close: true), policy: ReadPolicy(overall: .seconds(10)))
        return conversation.responses.first?.status
    }
}

/// Runs `body(index)` on `count` threads of their own (blocking socket clients) and waits for all.
func onThreads(_ count: Int, stackSize: Int = 1 << 20, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.stackSize = stackSize
        thread.start()
    }
    group.wait()
}
