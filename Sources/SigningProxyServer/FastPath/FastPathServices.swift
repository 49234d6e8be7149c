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
    /// Client-side limits (docs/API.md, "Timeouts and limits").
    let headerTimeout: TimeAmount
    let bodyTimeout: TimeAmount
    let bodyMinRate: Int
    let keepAliveTimeout: TimeAmount
    /// Open client connections, against `VLLM_PROXY_MAX_CONNECTIONS`.
    let connections: ConnectionLimiter
    /// Per-connection objects alive now (for leak tests).
    let live: LiveInstances

    /// Receive buffers for client and upstream connections: 1 KB to start, adapting between 64 B and 64 KB.
    static let receiveAllocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 1024, maximum: 65536)

    /// The routes served on the fast path; everything else goes to the router behind it.
    enum Route {
        case completion(upstreamPath: String)
        case models
        /// `GET /v1/signature/{chat_id}`: the decoded id and the `signing_algo` query value.
        case signature(chatID: String, algorithm: String?)
        /// A fast-path URL with a method it does not serve.
        case wrongMethod
    }

    /// Matches a request line, ignoring the query and trailing slashes as the general router does.
    static func route(method: HTTPMethod, path: String) -> Route? {
        var end = path.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) ?? path.utf8.endIndex
        while end > path.utf8.startIndex, path.utf8[path.utf8.index(before: end)] == UInt8(ascii: "/") {
            end = path.utf8.index(before: end)
        }
        switch path.utf8[path.utf8.startIndex..<end] {
        case let bare where bare.elementsEqual("/v1/chat/completions".utf8):
            return method == .POST ? .completion(upstreamPath: "/v1/chat/completions") : .wrongMethod
        case let bare where bare.elementsEqual("/v1/completions".utf8):
            return method == .POST ? .completion(upstreamPath: "/v1/completions") : .wrongMethod
        case let bare where bare.elementsEqual("/v1/models".utf8):
            return method == .GET ? .models : .wrongMethod
        case let bare where bare.starts(with: "/v1/signature/".utf8):
            let component = bare.dropFirst("/v1/signature/".utf8.count)
            // One path component, percent-decoded; anything else is left to the general router's 404.
            guard !component.isEmpty, !component.contains(UInt8(ascii: "/")),
                let chatID = PercentDecoding.decode(component)
            else { return nil }
            guard method == .GET else { return .wrongMethod }
            return .signature(chatID: chatID, algorithm: queryValue("signing_algo", in: path))
        default:
            return nil
        }
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
