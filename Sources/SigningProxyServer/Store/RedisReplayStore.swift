import E2EE

/// E2EE nonces claimed across replicas in the shared store, and in this replica's memory (docs/API.md, "Shared
/// receipt store"; docs/E2EE.md, "AAD, freshness, replay").
///
/// A claim is made in memory first: a nonce already spent here is refused without asking Redis, and one spent
/// while Redis was down stays spent here after it comes back. A fresh one is then claimed in Redis with
/// `SET signing-proxy:e2ee:<address>:<key> 1 NX EX <seconds left>`: taken there means another replica saw it.
/// Without an answer within the write wait (or while the store is down), memory's verdict stands: a nonce then
/// is single-use per replica only, until Redis answers again.
package struct RedisReplayStore: E2EEReplayStore {
    let store: SharedReceiptStore
    let local: InMemoryReplayCache
    let metrics: ProxyMetrics

    package init(store: SharedReceiptStore, local: InMemoryReplayCache = InMemoryReplayCache(), metrics: ProxyMetrics) {
        self.store = store
        self.local = local
        self.metrics = metrics
    }

    package func claim(_ key: String, expiresAt: Int64, now: Int64) async -> E2EEReplayVerdict {
        let verdict = local.claimNow(key, expiresAt: expiresAt, now: now)
        if verdict == .replayed { return .replayed }
        // A full memory still lets Redis decide; without Redis it refuses (as the memory alone would).
        switch await store.claim(key, ttlSeconds: expiresAt - now) {
        case true?:
            metrics.increment(.replayClaimsShared)
            return .fresh
        case false?:
            metrics.increment(.replayClaimsShared)
            return .replayed
        case nil:
            metrics.increment(.replayClaimsLocalFallback)
            return verdict
        }
    }
}
