import Testing

@testable import E2EE

@Suite struct ReplayCacheTests {
    @Test func claimsExpireAndTheBoundHolds() {
        let cache = InMemoryReplayCache(capacity: 2)
        #expect(cache.claimNow("a", expiresAt: 110, now: 100) == .fresh)
        #expect(cache.claimNow("a", expiresAt: 110, now: 109) == .replayed)
        #expect(cache.claimNow("b", expiresAt: 200, now: 101) == .fresh)
        // Full of live claims: refused, not forgotten.
        #expect(cache.claimNow("c", expiresAt: 200, now: 102) == .full)
        #expect(cache.claimNow("a", expiresAt: 200, now: 102) == .replayed)
        // Once "a" expires, its room is reused and "a" is fresh again.
        #expect(cache.claimNow("c", expiresAt: 300, now: 110) == .fresh)
        #expect(cache.count == 2)
        #expect(cache.claimNow("a", expiresAt: 300, now: 111) == .full)
        #expect(cache.claimNow("b", expiresAt: 300, now: 150) == .replayed)
    }
}
