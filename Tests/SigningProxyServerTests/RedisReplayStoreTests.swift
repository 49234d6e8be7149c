import E2EE
import Logging
import NIOCore
import RedisClient
import SigningCore
import SigningProxyServer
import Testing

@Suite("E2EE replay claims in the shared store")
struct RedisReplayStoreTests {
    static func replica(port: Int, write: Duration = .seconds(2)) -> (RedisReplayStore, SharedReceiptStore, ProxyMetrics) {
        let metrics = ProxyMetrics()
        let signer = ExchangeSigner(keys: .dev(seed: "replay"), format: .plain, modelName: "tiny")
        let store = SharedReceiptStore(
            settings: SharedReceiptStoreTests.settings(port: port, write: write), ttl: .seconds(60), signer: signer, metrics: metrics,
            logger: Logger(label: "test"))
        return (RedisReplayStore(store: store, metrics: metrics), store, metrics)
    }

    @Test("a nonce spent on one replica is refused on the other, with the TTL left of its window")
    func acrossReplicas() async throws {
        try await RedisServerProcess.withRedisServer { server in
            let (a, storeA, metricsA) = Self.replica(port: server.port)
            let (b, storeB, _) = Self.replica(port: server.port)
            // Connected first: on a loaded machine a connect inside the first claim's write wait could outlast it.
            try await storeA.pool.ping()
            try await storeB.pool.ping()
            let now: Int64 = 1_800_000_000
            #expect(await a.claim("nonce-1", expiresAt: now + 30, now: now) == .fresh)
            #expect(await b.claim("nonce-1", expiresAt: now + 30, now: now) == .replayed)
            #expect(await a.claim("nonce-1", expiresAt: now + 30, now: now) == .replayed)
            #expect(await b.claim("nonce-2", expiresAt: now + 30, now: now) == .fresh)
            #expect(metricsA.value(.replayClaimsShared) == 1)  // the second claim on A was refused from memory
            let ttl = try await storeA.pool.send(["TTL", storeA.replayPrefix + "nonce-1"])
            guard case .integer(let seconds) = ttl else { throw RawClient.Failure(description: "TTL: \(ttl)") }
            #expect((25...30).contains(seconds))
            await storeA.shutdown()
            await storeB.shutdown()
        }
    }

    @Test("without Redis the claims fall back to memory, bounded in time, and recover once it is back")
    func fallback() async throws {
        try await RedisServerProcess.withRedisServer { server in
            // A write wait longer than the whole loop may take: no claim waits it out.
            let (a, store, metrics) = Self.replica(port: server.port, write: .seconds(5))
            let (b, storeB, _) = Self.replica(port: server.port)
            let now: Int64 = 1_800_000_000
            await server.kill()
            let clock = ContinuousClock()
            let start = clock.now
            for index in 0..<10 {
                #expect(await a.claim("down-\(index)", expiresAt: now + 60, now: now) == .fresh)
                // Memory still refuses a replay on the same replica.
                #expect(await a.claim("down-\(index)", expiresAt: now + 60, now: now) == .replayed)
            }
            // Refused connects fail at once, then the circuit skips Redis.
            #expect(clock.now - start < .seconds(5))
            #expect(metrics.value(.replayClaimsLocalFallback) == 10)
            try await server.restart()
            let deadline = ContinuousClock.now + .seconds(10)
            var index = 0
            while metrics.value(.replayClaimsShared) == 0, ContinuousClock.now < deadline {
                index += 1
                _ = await a.claim("up-\(index)", expiresAt: now + 60, now: now)
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(metrics.value(.replayClaimsShared) > 0)
            #expect(await b.claim("up-\(index)", expiresAt: now + 60, now: now) == .replayed)
            await store.shutdown()
            await storeB.shutdown()
        }
    }
}
