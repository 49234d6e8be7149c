import AsyncHTTPClient

/// The HTTP client of the explicit online steps (`--fetch-collateral`, `--nras`).
enum OnlineHTTPClient {
    /// A process-lifetime client, never shut down (like `HTTPClient.shared`), that reports a refused
    /// connection at once instead of retrying until the request deadline.
    static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
