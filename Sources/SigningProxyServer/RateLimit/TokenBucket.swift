import NIOCore

/// A token bucket: `burst` requests at once, refilled at `rate` per second (docs/API.md, Rate limits).
/// A value fed the loop's clock, so it is tested without waiting.
struct TokenBucket: Sendable, Equatable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updated: NIODeadline

    init(rate: Double, burst: Int, now: NIODeadline) {
        self.rate = rate
        self.burst = Double(burst)
        tokens = Double(burst)
        updated = now
    }

    /// Takes one token if there is one.
    /// - Returns: nil when allowed, else how long until a token is back.
    mutating func take(now: NIODeadline) -> TimeAmount? {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        let missing = 1 - tokens
        return .nanoseconds(Int64((missing / rate * 1_000_000_000).rounded(.up)))
    }

    /// Whether the bucket is full at `now`: it then says nothing a fresh bucket would not, and can be forgotten.
    func isFull(now: NIODeadline) -> Bool {
        var copy = self
        copy.refill(now: now)
        return copy.tokens >= burst
    }

    private mutating func refill(now: NIODeadline) {
        guard now > updated else { return }
        let elapsed = Double((now - updated).nanoseconds) / 1_000_000_000
        tokens = min(burst, tokens + elapsed * rate)
        updated = now
    }
}
