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
        // A long quiet gap expires everything at once.
        #expect(cache.claimNow("a", expiresAt: 10_000, now: 5_000) == .fresh)
        #expect(cache.count == 1)
    }

    @Test func reclaimedKeyKeepsItsNewExpiry() {
        let cache = InMemoryReplayCache()
        #expect(cache.claimNow("k", expiresAt: 10, now: 0) == .fresh)
        #expect(cache.claimNow("k", expiresAt: 30, now: 10) == .fresh)  // expired at 10, claimed again
        #expect(cache.claimNow("x", expiresAt: 40, now: 20) == .fresh)  // sweeps second 10's filing of "k"
        #expect(cache.claimNow("k", expiresAt: 40, now: 25) == .replayed)
        // A clock stepping back still finds the claim.
        #expect(cache.claimNow("k", expiresAt: 40, now: 5) == .replayed)
    }

    @Test func duplicatedHeadersAreRefused() {
        #expect(throws: E2EEError.mixedHeaders(.aci)) {
            try E2EEDialect.detect(E2EEHeaders([("X-E2EE-Nonce", "a"), ("x-e2ee-nonce", "b")]))
        }
        #expect(throws: E2EEError.mixedHeaders(.dv)) {
            try E2EEDialect.detect(E2EEHeaders([("X-Signing-Algo", "ecdsa"), ("X-Client-Pub-Key", "a"), ("X-Client-Pub-Key", "b")]))
        }
    }
}
