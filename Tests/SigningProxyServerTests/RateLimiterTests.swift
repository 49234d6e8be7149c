import NIOCore
import Testing

@testable import SigningProxyServer

/// Rate and concurrency limits without sockets: the bucket, the settings, and the per-client limiter.
@Suite("Rate limits: token buckets per client, concurrency per token")
struct RateLimiterTests {
    static func at(milliseconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(1_000_000_000 + milliseconds * 1_000_000)) }

    @Test("a bucket gives its burst at once, then one token per 1/rate seconds, never more than the burst")
    func bucket() {
        var bucket = TokenBucket(rate: 2, burst: 3, now: Self.at(milliseconds: 0))
        for _ in 0..<3 { #expect(bucket.take(now: Self.at(milliseconds: 0)) == nil) }
        #expect(bucket.take(now: Self.at(milliseconds: 0)) == .milliseconds(500))
        #expect(bucket.take(now: Self.at(milliseconds: 250)) == .milliseconds(250))
        #expect(bucket.take(now: Self.at(milliseconds: 500)) == nil)
        #expect(bucket.take(now: Self.at(milliseconds: 500)) != nil)
        // A long idle time refills to the burst, not beyond.
        #expect(bucket.isFull(now: Self.at(milliseconds: 10_000)))
        for _ in 0..<3 { #expect(bucket.take(now: Self.at(milliseconds: 10_000)) == nil) }
        #expect(bucket.take(now: Self.at(milliseconds: 10_000)) != nil)
        // A clock that goes back changes nothing.
        #expect(bucket.take(now: Self.at(milliseconds: 0)) != nil)
    }

    @Test("settings: the Rust proxy's names, a burst of one second's worth by default, bad values refused")
    func settings() throws {
        func parse(_ env: [String: String]) throws -> RateLimitSettings? {
            try RateLimitSettings.parse { env[$0] }
        }
        #expect(try parse([:]) == nil)
        #expect(try parse(["RATE_LIMIT_PER_SECOND": "2.5"]) == RateLimitSettings(perSecond: 2.5, burst: 3))
        #expect(try parse(["RATE_LIMIT_PER_SECOND": "10", "RATE_LIMIT_BURST_SIZE": "40"]) == RateLimitSettings(perSecond: 10, burst: 40))
        #expect(try parse(["RATE_LIMIT_PER_SECOND": "0.1"])?.burst == 1)
        #expect(try parse(["RATE_LIMIT_MAX_CONCURRENT": "4"])?.maxConcurrent == 4)
        for bad in [
            ["RATE_LIMIT_PER_SECOND": "0"], ["RATE_LIMIT_PER_SECOND": "-1"], ["RATE_LIMIT_PER_SECOND": "fast"],
            ["RATE_LIMIT_PER_SECOND": "nan"], ["RATE_LIMIT_PER_SECOND": "inf"], ["RATE_LIMIT_BURST_SIZE": "5"],
            ["RATE_LIMIT_PER_SECOND": "1", "RATE_LIMIT_BURST_SIZE": "0"], ["RATE_LIMIT_PER_SECOND": "1", "RATE_LIMIT_BURST_SIZE": "1.5"],
            ["RATE_LIMIT_MAX_CONCURRENT": "0"], ["RATE_LIMIT_PER_SECOND": "1000001"],
            ["RATE_LIMIT_PER_SECOND": "1", "RATE_LIMIT_BURST_SIZE": "1000001"],
        ] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try parse(bad) }
        }
    }

    @Test("limits apply per client: one token's or address's burst does not spend another's")
    func perClient() {
        let limiter = RateLimiter(settings: RateLimitSettings(perSecond: 1, burst: 2))
        let now = Self.at(milliseconds: 0)
        for client in [RateLimiter.Client.token(0), .token(1), .address("127.0.0.1")] {
            for _ in 0..<2 {
                guard case .admitted = limiter.admit(client, now: now) else {
                    Issue.record("\(client) limited within its burst")
                    return
                }
            }
            guard case .limited(let retryAfter) = limiter.admit(client, now: now) else {
                Issue.record("\(client) not limited past its burst")
                return
            }
            #expect(retryAfter == 1)
        }
        guard case .admitted = limiter.admit(.token(0), now: Self.at(milliseconds: 1000)) else {
            Issue.record("not refilled after a second")
            return
        }
    }

    @Test("Retry-After rounds the wait up to whole seconds")
    func retryAfter() {
        let limiter = RateLimiter(settings: RateLimitSettings(perSecond: 0.25, burst: 1))
        _ = limiter.admit(.token(0), now: Self.at(milliseconds: 0))
        guard case .limited(let retryAfter) = limiter.admit(.token(0), now: Self.at(milliseconds: 500)) else {
            Issue.record("not limited")
            return
        }
        #expect(retryAfter == 4)
    }

    @Test("concurrency per token: leases count requests in flight and are released once")
    func concurrency() throws {
        let limiter = RateLimiter(settings: RateLimitSettings(perSecond: 1000, burst: 1000, maxConcurrent: 2))
        let now = Self.at(milliseconds: 0)
        guard case .admitted(let first?) = limiter.admit(.token(0), now: now),
            case .admitted(let second?) = limiter.admit(.token(0), now: now)
        else { throw Failure("not admitted with leases") }
        #expect(limiter.inFlight(token: 0) == 2)
        guard case .limited(retryAfter: 1) = limiter.admit(.token(0), now: now) else { throw Failure("a third in flight") }
        // Another token has its own count; an address has none.
        guard case .admitted(.some) = limiter.admit(.token(1), now: now) else { throw Failure("token 1 limited") }
        guard case .admitted(nil) = limiter.admit(.address("::1"), now: now) else { throw Failure("an address leased") }
        first.release()
        first.release()
        #expect(limiter.inFlight(token: 0) == 1)
        guard case .admitted = limiter.admit(.token(0), now: now) else { throw Failure("not admitted after a release") }
        second.release()
    }

    @Test("a lease forgotten by its holder is released when it goes")
    func leaseDeinit() {
        let limiter = RateLimiter(settings: RateLimitSettings(perSecond: 1000, burst: 1000, maxConcurrent: 1))
        do {
            let admission = limiter.admit(.token(0), now: Self.at(milliseconds: 0))
            guard case .admitted(.some) = admission else {
                Issue.record("no lease")
                return
            }
            #expect(limiter.inFlight(token: 0) == 1)
        }
        #expect(limiter.inFlight(token: 0) == 0)
    }

    @Test("the client map is bounded: full buckets are forgotten, and past the bound clients pass unremembered")
    func bounded() {
        let limiter = RateLimiter(settings: RateLimitSettings(perSecond: 1, burst: 1), maxClients: 100)
        for index in 0..<100 { _ = limiter.admit(.address("10.0.0.\(index)"), now: Self.at(milliseconds: 0)) }
        #expect(limiter.trackedClients == 100)
        // Full, unswept yet: a new client is let through but not stored.
        guard case .admitted = limiter.admit(.address("10.0.1.1"), now: Self.at(milliseconds: 100)) else {
            Issue.record("new client limited")
            return
        }
        #expect(limiter.trackedClients == 100)
        // Once their buckets refill they are forgotten, making room.
        _ = limiter.admit(.address("10.0.1.2"), now: Self.at(milliseconds: 5000))
        #expect(limiter.trackedClients == 1)
    }

    struct Failure: Error {
        var what: String
        init(_ what: String) { self.what = what }
    }
}
