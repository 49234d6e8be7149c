import RedisClient

/// The shared receipt store (docs/API.md, "Shared receipt store"): where Redis is, and how long the answers and
/// lookups wait for it.
///
/// `description` never shows the password.
package struct SharedStoreSettings: Sendable, CustomStringConvertible {
    /// `REDIS_HOST`, `REDIS_PORT`, `REDIS_PASSWORD`, `REDIS_DB` (the Python vllm-proxy's names), or `REDIS_URL`.
    package var redis: RedisConfiguration
    /// `REDIS_WRITE_TIMEOUT_MS`: how long an answer's last bytes wait for its record's write; after it they go
    /// anyway and the record stays in this replica only.
    package var writeTimeout: Duration = .milliseconds(50)
    /// `REDIS_LOOKUP_TIMEOUT_MS`: how long a `/v1/signature` lookup that missed locally waits for Redis.
    package var lookupTimeout: Duration = .milliseconds(500)

    package init(redis: RedisConfiguration) {
        self.redis = redis
    }

    package var description: String {
        "\(redis) (write wait \(writeTimeout.nanoseconds / 1_000_000) ms, lookup wait \(lookupTimeout.nanoseconds / 1_000_000) ms)"
    }

    /// The settings when `REDIS_HOST` or `REDIS_URL` is set; nil (no shared store) otherwise.
    /// - Throws: a message naming the variable for a bad value, a timeout set without Redis, or a port, database
    ///   or URL `RedisConfiguration` refuses.
    package static func parse(_ environment: [String: String]) throws(ConfigurationError) -> SharedStoreSettings? {
        let redis: RedisConfiguration?
        do {
            redis = try RedisConfiguration.fromEnvironment(environment)
        } catch {
            throw .refused(error.description)
        }
        let timeouts = [
            ("REDIS_WRITE_TIMEOUT_MS", 10_000), ("REDIS_LOOKUP_TIMEOUT_MS", 60_000),
        ].map { name, maximum in (name, environment[name]?.trimmingWhitespace(), maximum) }
        guard let redis else {
            if let (name, _, _) = timeouts.first(where: { $0.1?.isEmpty == false }) {
                throw .invalid(name, "is set without REDIS_HOST (or REDIS_URL): set the host too, or unset it")
            }
            return nil
        }
        var settings = SharedStoreSettings(redis: redis)
        for (name, raw, maximum) in timeouts {
            guard let raw, !raw.isEmpty else { continue }
            guard let milliseconds = Int(raw), (1...maximum).contains(milliseconds) else {
                throw .invalid(name, "must be a whole number of milliseconds from 1 to \(maximum), got \"\(raw)\"")
            }
            if name == "REDIS_WRITE_TIMEOUT_MS" {
                settings.writeTimeout = .milliseconds(milliseconds)
            } else {
                settings.lookupTimeout = .milliseconds(milliseconds)
            }
        }
        return settings
    }
}
