import NIOSSL

/// The parsed upstream and, for `https`, the TLS client context shared by every connection to it.
struct UpstreamEndpoint: Sendable {
    let target: UpstreamTarget
    let sslContext: NIOSSLContext?

    static func make(baseURL: String) -> Result<UpstreamEndpoint, UpstreamSetupError> {
        guard let target = UpstreamTarget(baseURL: baseURL) else { return .failure(.invalidBaseURL) }
        guard target.usesTLS else { return .success(UpstreamEndpoint(target: target, sslContext: nil)) }
        do {
            let context = try NIOSSLContext(configuration: .makeClientConfiguration())
            return .success(UpstreamEndpoint(target: target, sslContext: context))
        } catch {
            return .failure(.tlsUnavailable)
        }
    }
}

/// Why no connection to the upstream can be made at all.
struct UpstreamSetupError: Error, CustomStringConvertible {
    private enum Code { case invalidBaseURL, tlsUnavailable }
    private let code: Code

    static let invalidBaseURL = UpstreamSetupError(code: .invalidBaseURL)
    static let tlsUnavailable = UpstreamSetupError(code: .tlsUnavailable)

    var description: String {
        switch code {
        case .invalidBaseURL: "the backend's base URL (VLLM_BASE_URL or another) is not an http(s)://host[:port] URL"
        case .tlsUnavailable: "no TLS client context for the https upstream"
        }
    }
}
