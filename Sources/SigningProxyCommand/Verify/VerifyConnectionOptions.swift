import ArgumentParser
import NIOCore

/// How `verify exchange` and `verify chat` reach the proxy.
struct VerifyConnectionOptions: ParsableArguments {
    @Option(help: "Base URL of the proxy, e.g. http://127.0.0.1:8000 or https://proxy.example.")
    var url: String

    @Option(help: "Bearer token (secret).")
    var token: String

    @Option(
        help: ArgumentHelp(
            """
            PEM certificate(s) to trust for an https:// URL instead of the system's: the proxy's own \
            self-signed certificate (TLS_CERT_PATH), or the CA that issued it.
            """, valueName: "path"))
    var cacert: String?

    @Option(help: "Seconds allowed for each HTTP request.")
    var timeout = 120

    /// The client for these options; a bad URL or certificate file is a usage error.
    func client() throws -> ExchangeClient {
        do {
            let http = try ProxyHTTPClient(url: url, caCertificatePath: cacert, timeout: .seconds(Int64(timeout)))
            return ExchangeClient(http: http, token: token)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
