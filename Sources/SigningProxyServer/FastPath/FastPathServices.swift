import E2EE
import Logging
import NIOCore
import NIOHTTP1

/// What every connection's fast path shares: settings, the notary, metrics and the upstream pools.
struct FastPathServices: Sendable {
    let configuration: ProxyConfiguration
    /// nil when `VLLM_BASE_URL` does not parse; every connection attempt then fails (502).
    let target: UpstreamTarget?
    let authenticator: BearerAuthenticator
    let notary: ExchangeNotary
    let signatures: SignatureRoute
    let metrics: ProxyMetrics
    let pools: UpstreamPools
    let logger: Logger
    /// `VLLM_PROXY_TIMEOUT_SECS` as an idle-read limit: the wait for headers and every gap between chunks.
    let upstreamTimeout: TimeAmount
    /// Client-side limits (docs/API.md, "Connections, timeouts and limits").
    let headerTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let bodyMinRate: Int
    let keepAliveTimeout: TimeAmount
    /// Open client connections, against `VLLM_PROXY_MAX_CONNECTIONS`.
    let connections: ConnectionLimiter
    /// Per-connection objects alive now (for leak tests).
    let live: LiveInstances
    /// `RATE_LIMIT_*`; nil: no limits (docs/API.md, Rate limits).
    var rateLimiter: RateLimiter? = nil
    /// The keys and replay state of encrypted requests (docs/E2EE.md); nil: they are refused.
    var e2ee: E2EEKeyring? = nil
    /// Where E2EE nonces are claimed: the shared store when configured (docs/API.md, "Shared receipt store"),
    /// else this process's memory.
    var replayStore: any E2EEReplayStore = InMemoryReplayCache()

    /// What each exchange's state machine reads of the settings.
    var exchangeSettings: ExchangeStateMachine.Settings {
        ExchangeStateMachine.Settings(
            maxRequestSize: configuration.maxRequestSize, maxUpstreamResponseSize: configuration.maxUpstreamResponseSize,
            upstreamHost: target?.hostHeader ?? "", upstreamBasePath: target?.basePath ?? "",
            receiptHeadersByDefault: configuration.signingMode == .eager)
    }

    /// Receive buffers for client and upstream connections: 1 KB to start, adapting between 64 B and 64 KB.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536)

    /// The routes served on the fast path; the proxy's own routes (`generalRoutes`) go to the router behind it.
    enum Route: Equatable {
        /// A vLLM route of `RouteTable`, proxied.
        case proxied(ProxyRoute)
        case models
        /// `GET /v1/signature/{chat_id}`: the decoded id and the `signing_algo` query value.
        case signature(chatID: String, algorithm: String?)
        /// A served URL with a method it does not serve.
        case wrongMethod
        /// A vLLM route asked for with a trailing slash: vLLM redirects (307) to the path without it.
        case redirect(location: String)
        /// Nothing is served here (404).
        case notServed
    }

    /// The proxy's own routes, answered by the router behind the fast path.
    static let generalRoutes: Set<String> = ["/", "/health", "/version", "/v1/attestation/report", "/metrics", "/v1/metrics"]

    /// Matches a request line; nil for one of the proxy's own routes (`generalRoutes`).
    ///
    /// vLLM's routes match exactly, as vLLM matches them: with a trailing slash they redirect. The
    /// proxy's own routes ignore trailing slashes, as the general router does.
    static func route(method: HTTPMethod, path: String) -> Route? {
        let queryStart = path.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? path.utf8.endIndex
        let exact = path.utf8[path.utf8.startIndex..<queryStart]
        var end = queryStart
        while end > path.utf8.startIndex, path.utf8[path.utf8.index(before: end)] == UInt8(ascii: "/") {
            end = path.utf8.index(before: end)
        }
        let bare = path.utf8[path.utf8.startIndex..<end]
        let query = path[queryStart...].prefix { $0 != "#" }
        if let proxied = RouteTable.route(path: exact, query: query) {
            return method == proxied.method ? .proxied(proxied) : .wrongMethod
        }
        if exact.elementsEqual("/v1/models".utf8) {
            return method == .GET ? .models : .wrongMethod
        }
        if end != queryStart, bare.elementsEqual("/v1/models".utf8) || RouteTable.route(path: bare, query: query) != nil {
            return .redirect(location: String(Substring(bare)) + query)
        }
        if bare.starts(with: "/v1/signature/".utf8) {
            let component = bare.dropFirst("/v1/signature/".utf8.count)
            // One path component, percent-decoded.
            guard !component.isEmpty, !component.contains(UInt8(ascii: "/")),
                let chatID = PercentDecoding.decode(component)
            else { return .notServed }
            guard method == .GET else { return .wrongMethod }
            return .signature(chatID: chatID, algorithm: queryValue("signing_algo", in: path))
        }
        let own = bare.isEmpty ? "/" : String(Substring(bare))
        return generalRoutes.contains(own) ? nil : .notServed
    }

    /// The first value of `name` in the query string, percent-decoded (`+` is a space, as in forms).
    static func queryValue(_ name: String, in path: String) -> String? {
        guard let start = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        let query = path.utf8[path.utf8.index(after: start)...].prefix { $0 != UInt8(ascii: "#") }
        for pair in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let key = pair.prefix { $0 != UInt8(ascii: "=") }
            guard PercentDecoding.decode(key, plusIsSpace: true) == name else { continue }
            let value = pair.dropFirst(key.count).dropFirst()
            return PercentDecoding.decode(value, plusIsSpace: true)
        }
        return nil
    }
}
