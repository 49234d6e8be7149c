#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where the dstack guest agent listens: a unix socket (the normal case) or an HTTP base URL.
package enum DstackEndpoint: Sendable, Hashable, CustomStringConvertible {
    case unixSocket(path: String)
    case http(baseURL: String)

    /// Socket paths probed in order when nothing is configured, as the dstack SDKs probe them.
    package static let defaultSocketPaths = [
        "/var/run/dstack.sock",
        "/run/dstack.sock",
        "/var/run/dstack/dstack.sock",
        "/run/dstack/dstack.sock",
    ]

    /// Environment variable the dstack SDKs read (despite the name, used for any non-default endpoint).
    package static let environmentVariable = "DSTACK_SIMULATOR_ENDPOINT"

    /// Resolves the endpoint as the dstack SDKs do.
    ///
    /// Order: `explicit` (e.g. `--dstack-endpoint`), then `DSTACK_SIMULATOR_ENDPOINT`, then the first
    /// existing path of ``defaultSocketPaths``. Empty values count as unset.
    /// - Throws: `DstackAgentError.noEndpoint` when a configured socket path does not exist or no default
    ///   socket exists.
    package static func resolve(
        explicit: String?,
        environment: [String: String],
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) throws(DstackAgentError) -> DstackEndpoint {
        if let explicit, !explicit.isEmpty {
            return try parse(explicit, source: "the configured endpoint", fileExists: fileExists)
        }
        if let value = environment[environmentVariable], !value.isEmpty {
            return try parse(value, source: environmentVariable, fileExists: fileExists)
        }
        if let path = defaultSocketPaths.first(where: fileExists) {
            return .unixSocket(path: path)
        }
        throw .noEndpoint(
            "none of \(defaultSocketPaths.joined(separator: ", ")) exists; mount the agent socket into the "
                + "container (- /var/run/dstack.sock:/var/run/dstack.sock), set \(environmentVariable) or "
                + "--dstack-endpoint, or run with DEV=1 for development keys")
    }

    /// Interprets one configured value: `http://`/`https://` is a base URL, anything else a socket path.
    package static func parse(
        _ value: String,
        source: String = "endpoint",
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) throws(DstackAgentError) -> DstackEndpoint {
        let lowered = value.lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
            var base = value
            while base.hasSuffix("/") { base.removeLast() }
            return .http(baseURL: base)
        }
        guard fileExists(value) else {
            throw .noEndpoint("socket \(value) (from \(source)) does not exist; is the dstack agent running there?")
        }
        return .unixSocket(path: value)
    }

    package var description: String {
        switch self {
        case .unixSocket(let path): return "unix:\(path)"
        case .http(let baseURL): return baseURL
        }
    }
}
