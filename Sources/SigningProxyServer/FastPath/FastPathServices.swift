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
    let metrics: ProxyMetrics
    let pools: UpstreamPools
    let logger: Logger
    /// `VLLM_PROXY_TIMEOUT_SECS` as an idle-read limit: the wait for headers and every gap between chunks.
    let upstreamTimeout: TimeAmount

    /// The routes served on the fast path; everything else goes to the router behind it.
    enum Route {
        case completion(upstreamPath: String)
        case models
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
        default:
            return nil
        }
    }
}
