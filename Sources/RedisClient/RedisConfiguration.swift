import NIOCore

/// Where the Redis server is, how to log in, and how long to wait for it.
///
/// `description` never shows the password, so the value can be logged.
package struct RedisConfiguration: Sendable, Hashable, CustomStringConvertible {
    package var host: String
    package var port: Int
    /// The ACL user for `AUTH username password`; nil sends `AUTH password` (the `default` user).
    package var username: String?
    /// nil sends no AUTH.
    package var password: String?
    /// Selected with SELECT on every connection when not 0.
    package var database: Int

    /// Connections the pool opens at most; commands share them by pipelining, so a few carry a lot.
    package var maxConnections = 4
    package var connectTimeout: TimeAmount = .seconds(1)
    /// The default per-command timeout.
    package var commandTimeout: TimeAmount = .seconds(1)
    /// The wait after a failed connect before the next try; doubled after each failure up to `maxReconnectBackoff`.
    /// In between, commands fail at once (`RedisClientError` "unavailable") instead of each waiting on a dead server.
    package var reconnectBackoff: TimeAmount = .milliseconds(50)
    package var maxReconnectBackoff: TimeAmount = .seconds(2)
    package var limits: RESPParser.Limits = .default

    package init(host: String, port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    /// `host:port`, IPv6 hosts in brackets.
    package var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    package var description: String {
        var userinfo = ""
        if password != nil { userinfo = "\(username ?? ""):***@" }
        return "redis://\(userinfo)\(endpoint)/\(database)"
    }

    private static let separateVariables = ["REDIS_HOST", "REDIS_PORT", "REDIS_PASSWORD", "REDIS_DB"]

    /// Reads the Python vllm-proxy's variables, `REDIS_HOST`, `REDIS_PORT` (default 6379), `REDIS_PASSWORD` and
    /// `REDIS_DB` (default 0), or one `REDIS_URL` instead. Returns nil when neither `REDIS_HOST` nor `REDIS_URL` is set
    /// (no shared store). An empty value counts as unset, as in a compose file's `REDIS_PASSWORD=`.
    package static func fromEnvironment(_ environment: [String: String]) throws(RedisConfigurationError) -> RedisConfiguration? {
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let separate = separateVariables.filter { value($0) != nil }
        if let url = value("REDIS_URL") {
            guard separate.isEmpty else { throw .conflicting(separate.joined(separator: ", ")) }
            return try parseURL(url)
        }
        guard let host = value("REDIS_HOST") else {
            guard separate.isEmpty else { throw .missingHost(separate.joined(separator: ", ")) }
            return nil
        }
        // A URL here would otherwise surface only as a failed DNS lookup at the first command; the userinfo is cut
        // from the message in case it holds a password.
        if host.contains("://") || host.contains(where: \.isWhitespace) {
            throw .invalidHost(String(host.split(separator: "@").last ?? ""))
        }
        var configuration = RedisConfiguration(host: host)
        if let port = value("REDIS_PORT") {
            guard let number = decimal(port, max: 65535), number >= 1 else {
                throw .invalidPort(variable: "REDIS_PORT", value: port)
            }
            configuration.port = number
        }
        if let database = value("REDIS_DB") {
            guard let number = decimal(database, max: Int(Int32.max)) else {
                throw .invalidDatabase(variable: "REDIS_DB", value: database)
            }
            configuration.database = number
        }
        configuration.password = value("REDIS_PASSWORD")
        return configuration
    }

    /// `redis://[[user]:password@]host[:port][/db]`, the form redis-py and most clients accept, user and password
    /// percent-decoded. TLS (`rediss://`), unix sockets, query parameters and fragments are refused, not ignored.
    package static func parseURL(_ url: String) throws(RedisConfigurationError) -> RedisConfiguration {
        let lowered = url.lowercased()
        if lowered.hasPrefix("rediss://") { throw .invalidURL("TLS (rediss://) is not supported") }
        guard lowered.hasPrefix("redis://") else { throw .invalidURL("the scheme must be redis://") }
        var rest = Substring(url.dropFirst("redis://".count))
        if rest.contains("?") || rest.contains("#") { throw .invalidURL("query parameters and fragments are not supported") }

        // The path (database) starts at the first slash after the userinfo, as in RFC 3986 and redis-py.
        let atIndex = rest.lastIndex(of: "@")
        let authorityEnd = rest[(atIndex.map { rest.index(after: $0) } ?? rest.startIndex)...].firstIndex(of: "/") ?? rest.endIndex
        var path = rest[authorityEnd...]
        rest = rest[..<authorityEnd]

        var username: String?
        var password: String?
        if let atIndex {
            let userinfo = rest[..<atIndex]
            rest = rest[rest.index(after: atIndex)...]
            guard let colon = userinfo.firstIndex(of: ":") else {
                throw .invalidURL("a user name needs a password (redis://user:password@host)")
            }
            guard let user = percentDecoded(userinfo[..<colon]), let secret = percentDecoded(userinfo[userinfo.index(after: colon)...])
            else { throw .invalidURL("invalid percent-encoding in the user or password") }
            username = user.isEmpty ? nil : user
            password = secret.isEmpty ? nil : secret
            if username != nil && password == nil { throw .invalidURL("a user name needs a password") }
        }

        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("unclosed [ in the IPv6 host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalidURL("unexpected characters after the IPv6 host") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw .invalidURL("no host") }
        var configuration = RedisConfiguration(host: String(host), username: username, password: password)
        if let portText {
            guard let port = decimal(portText, max: 65535), port >= 1 else {
                throw .invalidPort(variable: "REDIS_URL", value: String(portText))
            }
            configuration.port = port
        }
        if path.hasPrefix("/") { path = path.dropFirst() }
        if !path.isEmpty {
            guard let database = decimal(path, max: Int(Int32.max)) else {
                throw .invalidDatabase(variable: "REDIS_URL", value: String(path))
            }
            configuration.database = database
        }
        return configuration
    }

    /// 1 to 10 ASCII digits with a value at most `max`; no sign, spaces or other characters.
    private static func decimal(_ text: some StringProtocol, max: Int) -> Int? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= 10 else { return nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value <= max ? value : nil
    }

    /// `%XX` escapes decoded as UTF-8; nil for a malformed escape.
    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
