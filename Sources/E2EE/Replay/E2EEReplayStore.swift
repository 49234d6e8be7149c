/// Where single-use E2EE nonces are claimed: in memory per process today, a shared store (Redis `SET NX PX`)
/// when replicas share keys (docs/E2EE.md, "AAD, freshness, replay").
package protocol E2EEReplayStore: Sendable {
    /// Claims `key` until `expiresAt` (Unix seconds, exclusive): `.fresh` the first time, `.replayed` after.
    func claim(_ key: String, expiresAt: Int64, now: Int64) async -> E2EEReplayVerdict
}

/// The outcome of a claim.
package enum E2EEReplayVerdict: Hashable, Sendable {
    case fresh
    case replayed
    /// The store is full of live claims; the claim is refused rather than forgetting one (which would let it
    /// be replayed inside its window).
    case full
}
