/// Why the Redis environment variables cannot be used. Descriptions name the variable and never show a password.
package struct RedisConfigurationError: Error, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case invalidPort(variable: String, value: String)
        case invalidDatabase(variable: String, value: String)
        case invalidURL(String)
        case conflicting(String)
        case missingHost(String)
        case invalidHost(String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// A port that is not decimal digits in 1...65535.
    static func invalidPort(variable: String, value: String) -> Self { .init(.invalidPort(variable: variable, value: value)) }
    /// A database number that is not decimal digits in 0...2147483647.
    static func invalidDatabase(variable: String, value: String) -> Self {
        .init(.invalidDatabase(variable: variable, value: value))
    }
    /// `REDIS_URL` is not `redis://[[user]:password@]host[:port][/db]`; the detail never contains the userinfo.
    static func invalidURL(_ detail: String) -> Self { .init(.invalidURL(detail)) }
    /// `REDIS_URL` and the separate variables are both set.
    static func conflicting(_ variables: String) -> Self { .init(.conflicting(variables)) }
    /// `REDIS_PORT`, `REDIS_PASSWORD` or `REDIS_DB` is set without `REDIS_HOST`.
    static func missingHost(_ variables: String) -> Self { .init(.missingHost(variables)) }
    /// `REDIS_HOST` holds a URL or whitespace instead of a host name or address.
    static func invalidHost(_ value: String) -> Self { .init(.invalidHost(value)) }

    package var description: String {
        switch code {
        case .invalidPort(let variable, let value):
            return "\(variable) must be a port number from 1 to 65535, got \"\(value)\""
        case .invalidDatabase(let variable, let value):
            return "\(variable) must be a database number from 0 to 2147483647, got \"\(value)\""
        case .invalidURL(let detail):
            return "REDIS_URL must look like redis://[[user]:password@]host[:port][/db]: \(detail)"
        case .conflicting(let variables):
            return "REDIS_URL is set together with \(variables): set one or the other"
        case .missingHost(let variables):
            return "\(variables) set without REDIS_HOST (or REDIS_URL): set the host too, or unset them"
        case .invalidHost(let value):
            return "REDIS_HOST must be a host name or address, got \"\(value)\" (a URL goes in REDIS_URL)"
        }
    }
}
