/// `RATE_LIMIT_PER_SECOND`, `RATE_LIMIT_BURST_SIZE` (the Rust proxy's names) and
/// `RATE_LIMIT_MAX_CONCURRENT` (docs/API.md, Rate limits). Unset: no limit.
package struct RateLimitSettings: Sendable, Equatable {
    /// Requests per second each client may sustain.
    package var perSecond: Double
    /// Requests a client may make at once after being idle.
    package var burst: Int
    /// Requests one token may have in flight; nil: unbounded.
    package var maxConcurrent: Int?

    package init(perSecond: Double, burst: Int, maxConcurrent: Int? = nil) {
        self.perSecond = perSecond
        self.burst = burst
        self.maxConcurrent = maxConcurrent
    }

    /// Reads the variables through `value` (trimmed, nil when unset).
    /// - Returns: nil when no limit is set.
    package static func parse(_ value: (String) -> String?) throws(ConfigurationError) -> RateLimitSettings? {
        var perSecond: Double?
        if let raw = value("RATE_LIMIT_PER_SECOND") {
            guard let rate = Double(raw), rate.isFinite, rate > 0, rate <= 1_000_000 else {
                throw .invalid("RATE_LIMIT_PER_SECOND", "must be a number of requests per second above 0 and at most 1000000")
            }
            perSecond = rate
        }
        var burst: Int?
        if let raw = value("RATE_LIMIT_BURST_SIZE") {
            guard let size = Int(raw), size >= 1, size <= 1_000_000 else {
                throw .invalid("RATE_LIMIT_BURST_SIZE", "must be an integer from 1 to 1000000")
            }
            guard perSecond != nil else { throw .invalid("RATE_LIMIT_BURST_SIZE", "needs RATE_LIMIT_PER_SECOND") }
            burst = size
        }
        var maxConcurrent: Int?
        if let raw = value("RATE_LIMIT_MAX_CONCURRENT") {
            guard let count = Int(raw), count >= 1 else { throw .invalid("RATE_LIMIT_MAX_CONCURRENT", "must be an integer ≥ 1") }
            maxConcurrent = count
        }
        guard perSecond != nil || maxConcurrent != nil else { return nil }
        // Without a rate, only concurrency is limited: a bucket that never runs dry.
        let rate = perSecond ?? 1_000_000
        // A burst of one second's worth by default, at least one request.
        let defaultBurst = perSecond.map { max(1, Int($0.rounded(.up))) } ?? 1_000_000
        return RateLimitSettings(perSecond: rate, burst: burst ?? defaultBurst, maxConcurrent: maxConcurrent)
    }
}
