/// Where vLLM listens, parsed once from `VLLM_BASE_URL` for the raw upstream connections.
struct UpstreamTarget: Sendable, Equatable {
    var host: String
    var port: Int
    var usesTLS: Bool
    /// Path prefix of the base URL without a trailing slash (usually empty).
    var basePath: String
    /// The `Host` header value: the host, with the port unless it is the scheme's default.
    var hostHeader: String

    /// Parses `http[s]://host[:port][/prefix]`; IPv6 literals in brackets are accepted.
    init?(baseURL: String) {
        let lowered = baseURL.lowercased()
        let rest: Substring
        if lowered.hasPrefix("http://") {
            usesTLS = false
            rest = baseURL.dropFirst(7)
        } else if lowered.hasPrefix("https://") {
            usesTLS = true
            rest = baseURL.dropFirst(8)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var path = String(rest.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" })
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }

        let defaultPort = usesTLS ? 443 : 80
        var hostPart: Substring
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
        }
        guard !hostPart.isEmpty else { return nil }
        if let portPart {
            guard let port = Int(portPart), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            self.port = defaultPort
        }
        host = String(hostPart)
        basePath = path
        let bracketed = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }
}
