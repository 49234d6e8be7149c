import Foundation
import Logging
import MockVLLM
import NIOCore
import NIOPosix
import RedisClient
import SigningCore
import SigningCrypto
import SigningProxyServer
import Testing

/// Two proxy replicas sharing a real redis-server on loopback (docs/API.md, "Shared receipt store").
@Suite("Shared receipt store on Redis")
struct SharedReceiptStoreTests {
    static let streamRequest = Array(#"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"stream":true}"#.utf8)
    static let jsonRequest = Array(#"{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"#.utf8)

    /// The store's settings for `port`, with short bounded waits.
    static func settings(port: Int, write: Duration = .seconds(2), lookup: Duration = .seconds(2)) -> SharedStoreSettings {
        var redis = RedisConfiguration(host: "127.0.0.1", port: port)
        redis.maxConnections = 2
        redis.connectTimeout = .seconds(2)
        redis.reconnectBackoff = .milliseconds(20)
        redis.maxReconnectBackoff = .milliseconds(200)
        var settings = SharedStoreSettings(redis: redis)
        // Longer than the defaults (50 and 500 ms): the whole test run shares two cores, and most of these tests
        // assert sharing, which a wait that runs out would turn into a fallback to memory.
        settings.writeTimeout = write
        settings.lookupTimeout = lookup
        return settings
    }

    /// Replicas A and B of one app (the same development seed) sharing the store in `settings`.
    static func withReplicas(
        _ settings: SharedStoreSettings, mock: MockVLLMConfiguration = MockVLLMConfiguration(), signingMode: SigningMode = .eager,
        _ body: @Sendable (ProxyHarness, ProxyHarness) async throws -> Void
    ) async throws {
        try await ProxyHarness.run(mock: mock, configure: { $0.sharedStore = settings; $0.signingMode = signingMode }) { a in
            try await ProxyHarness.run(mock: mock, configure: { $0.sharedStore = settings }) { b in
                try await body(a, b)
            }
        }
    }

    /// The proxy's port, and `jsonRequest` as raw HTTP/1.1 bytes for `RawClient` (to reset or pipeline by hand).
    static func rawCompletion(_ harness: ProxyHarness) throws -> (port: Int, request: String) {
        let port = try #require(Int(harness.proxyURL.split(separator: ":").last!))
        let request =
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(harness.token)\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(jsonRequest.count)\r\n\r\n" + String(decoding: jsonRequest, as: UTF8.self)
        return (port, request)
    }

    static func chatID(_ answer: ProxyHarness.Answer, streamed: Bool) throws -> String {
        streamed ? try firstChatID(answer.body) : try #require(try answer.json()["id"] as? String)
    }

    @Test(
        "a completion served by A, streamed and not, eager and lazy, is in Redis when its last byte arrives, and B serves its signatures",
        arguments: [(true, SigningMode.eager), (false, .eager), (true, .lazy), (false, .lazy)])
    func replicaBServesA(streamed: Bool, mode: SigningMode) async throws {
        try await RedisServerProcess.withRedisServer { server in
            let pool = RedisConnectionPool(configuration: server.configuration(), logger: Logger(label: "test"))
            defer { Task { await pool.shutdown() } }
            try await Self.withReplicas(Self.settings(port: server.port), signingMode: mode) { a, b in
                let request = streamed ? Self.streamRequest : Self.jsonRequest
                let answer = try await a.send(.POST, "/v1/chat/completions", body: request)
                #expect(answer.status == 200)
                let chatID = try Self.chatID(answer, streamed: streamed)
                // Written before the last bytes were released: no wait, no retry.
                let stored = try #require(try await pool.get(a.proxy.sharedStore!.key(ChatID(chatID))))
                #expect(stored.readableBytes == SharedRecordFormat.length)
                let record = try #require(SharedRecordFormat.decode(stored))
                #expect(a.proxy.notary.text(of: record) == "\(sha256Hex(request)):\(sha256Hex(answer.body))")

                // B never saw the completion; it answers from Redis, and its answer verifies as A's would.
                #expect(b.proxy.store.lookup(ChatID(chatID)) == nil)
                try await expectSigned(b, chatID: chatID, request: request, response: answer.body)
                #expect(b.proxy.metrics.value(.signatureLookupSharedHits) == 2)
                #expect(b.proxy.store.lookup(ChatID(chatID)) == nil)
                // A serves it from memory, byte for byte the same.
                _ = try await a.storedRecord(chatID)
                #expect(try await a.signature(chatID).body == (try await b.signature(chatID)).body)
                #expect(a.proxy.metrics.value(.sharedStoreWrites) == 1)
                #expect(a.proxy.metrics.value(.signatureLookupLocalHits) == 1)
            }
        }
    }

    @Test("first writer wins across replicas: B's completion with A's id is counted a duplicate and not kept; lookups get A's record")
    func firstWriterWins() async throws {
        let body = try Fixtures.bytes("vllm/chat.body")
        let chatID = "chatcmpl-ba330a18951aac39"
        let mock = MockVLLMConfiguration(replay: MockVLLMReplay(body: body, contentType: "application/json"))
        try await RedisServerProcess.withRedisServer { server in
            try await Self.withReplicas(Self.settings(port: server.port), mock: mock) { a, b in
                let first = Array(#"{"model":"tiny","messages":[{"role":"user","content":"first"}]}"#.utf8)
                let second = Array(#"{"model":"tiny","messages":[{"role":"user","content":"second"}]}"#.utf8)
                #expect(try await a.send(.POST, "/v1/chat/completions", body: first).body == body)
                #expect(try await b.send(.POST, "/v1/chat/completions", body: second).body == body)
                #expect(b.proxy.metrics.value(.sharedStoreDuplicates) == 1)
                try await Task.sleep(for: .milliseconds(400))  // B's delivery confirmation
                #expect(b.proxy.metrics.value(.duplicateChatIDs) == 1)
                #expect(b.proxy.store.lookup(ChatID(chatID)) == nil)
                for replica in [a, b] {
                    let text = try #require(try await replica.signature(chatID).json()["text"] as? String)
                    #expect(text == "\(sha256Hex(first)):\(sha256Hex(body))")
                }
            }
        }
    }

    @Test("a record whose answer was not delivered is dropped here and deleted from Redis")
    func undeliveredIsRetracted() async throws {
        try await RedisServerProcess.withRedisServer { server in
            let metrics = ProxyMetrics()
            let signer = ExchangeSigner(keys: .dev(seed: "retract"), format: .plain, modelName: "tiny")
            let shared = SharedReceiptStore(
                settings: Self.settings(port: server.port), ttl: .seconds(60), signer: signer, metrics: metrics, logger: Logger(label: "test"))
            let notary = ExchangeNotary(
                signer: signer, store: SignatureStore(capacity: 10, ttl: .seconds(60)), metrics: metrics, mode: .lazy, shared: shared)
            let hash = String(repeating: "ab", count: 32)
            let loop = MultiThreadedEventLoopGroup.singleton.any()
            for delivered in [false, true] {
                let chatID = "chatcmpl-\(delivered)"
                let prepared = try #require(
                    notary.prepare(chatID: chatID, requestHash: hash, responseHash: hash, signNow: notary.signsForSharing, logger: Logger(label: "test")))
                try await loop.flatSubmit {
                    let (settle, released) = notary.release(prepared, on: loop, logger: Logger(label: "test"))
                    return released!.assumeIsolated().map { settle(delivered) }.nonisolated()
                }.get()
                let key = shared.key(ChatID(chatID))
                let deadline = ContinuousClock.now + .seconds(5)
                while try await (shared.pool.get(key) != nil) != delivered, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(try await (shared.pool.get(key) != nil) == delivered)
                #expect((notary.lookup(chatID) != nil) == delivered)
            }
            #expect(metrics.value(.sharedStoreRetractions) == 1)
            #expect(metrics.value(.signaturesDroppedUndelivered) == 1)
            await shared.shutdown()
        }
    }

    @Test("garbage and records signed with other keys are never served: 404, counted as errors")
    func garbageIsNotServed() async throws {
        try await RedisServerProcess.withRedisServer { server in
            let pool = RedisConnectionPool(configuration: server.configuration(), logger: Logger(label: "test"))
            defer { Task { await pool.shutdown() } }
            try await Self.withReplicas(Self.settings(port: server.port)) { a, _ in
                let store = try #require(a.proxy.sharedStore)
                let hash = try #require(FixedBytes<32>(lowercaseHex: String(repeating: "0f", count: 32)))
                let otherApp = ExchangeSigner(keys: .dev(seed: "another app"), format: .plain, modelName: "tiny")
                let forged = try #require(SharedRecordFormat.encode(try otherApp.sign(requestHash: hash, responseHash: hash)))
                var tampered = try #require(
                    SharedRecordFormat.encode(
                        try ExchangeSigner(keys: a.proxy.keys, format: .plain, modelName: "tiny").sign(requestHash: hash, responseHash: hash)))
                // One hash digit changed: the signatures no longer cover the text.
                tampered.setInteger(UInt8(ascii: "e"), at: 30)
                let values: [(String, ByteBuffer)] = [
                    ("garbage", ByteBuffer(string: "not a record")),
                    ("empty", ByteBuffer()),
                    ("forged", forged),
                    ("tampered", tampered),
                    ("truncated", forged.getSlice(at: 0, length: forged.readableBytes - 1)!),
                ]
                for (id, value) in values {
                    _ = try await pool.set(store.key(ChatID(id)), to: value)
                    let answer = try await a.signature(id)
                    #expect(answer.status == 404, "\(id)")
                }
                #expect(a.proxy.metrics.value(.sharedStoreLookupErrors) == values.count)
                #expect(a.proxy.metrics.value(.signatureLookupMisses) == values.count)
                // A value read back in the right shape still verifies: the check is not what refused the others.
                let genuine = try #require(
                    SharedRecordFormat.encode(
                        try ExchangeSigner(keys: a.proxy.keys, format: .plain, modelName: "tiny").sign(requestHash: hash, responseHash: hash)))
                _ = try await pool.set(store.key(ChatID("genuine")), to: genuine)
                #expect(try await a.signature("genuine").status == 200)
                // Without a token nothing is asked of Redis.
                #expect(try await a.send(.GET, "/v1/signature/genuine", headers: []).status == 401)
            }
        }
    }

    @Test("Redis down from the start: completions are served and signed here, lookups answer from memory, nothing waits")
    func downAtStart() async throws {
        // A write wait far longer than a completion takes, even on a busy machine: none may wait it out.
        let settings = Self.settings(port: ProxyHarness.closedPort(), write: .seconds(5))
        try await ProxyHarness.run(configure: { $0.sharedStore = settings }) { a in
            let clock = ContinuousClock()
            for index in 0..<10 {
                let start = clock.now
                let answer = try await a.send(.POST, "/v1/chat/completions", body: Self.jsonRequest)
                #expect(answer.status == 200)
                // A refused connect fails at once: no completion waits for the write bound.
                #expect(clock.now - start < .seconds(5), "completion \(index)")
                let chatID = try Self.chatID(answer, streamed: false)
                _ = try await a.storedRecord(chatID)
                #expect(try await a.signature(chatID).status == 200)
            }
            let metrics = a.proxy.metrics
            #expect(metrics.value(.signaturesStored) == 10)
            #expect(metrics.value(.sharedStoreWrites) == 0)
            #expect(metrics.value(.sharedStoreWriteErrors) + metrics.value(.sharedStoreWritesSkipped) == 10)
            #expect(metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 0\n"))
            #expect(try await a.signature("chatcmpl-unknown").status == 404)
        }
    }

    @Test("Redis killed mid-way: no completion fails, A keeps serving its signatures; after a restart sharing resumes by itself, the records made meanwhile too")
    func killedAndRestarted() async throws {
        try await RedisServerProcess.withRedisServer { process in
            // Used by this test's body alone, one step at a time.
            nonisolated(unsafe) let server = process
            try await Self.withReplicas(Self.settings(port: server.port)) { a, b in
                func complete(_ count: Int) async throws -> [String] {
                    var ids: [String] = []
                    for _ in 0..<count {
                        let answer = try await a.send(.POST, "/v1/chat/completions", body: Self.jsonRequest)
                        #expect(answer.status == 200)
                        ids.append(try Self.chatID(answer, streamed: false))
                    }
                    return ids
                }
                let before = try await complete(3)
                for id in before { #expect(try await b.signature(id).status == 200) }

                await server.kill()
                let during = try await complete(20)
                for id in during {
                    _ = try await a.storedRecord(id)
                    #expect(try await a.signature(id).status == 200)
                    #expect(try await b.signature(id).status == 404)
                }
                #expect(a.proxy.metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 0\n"))
                #expect(a.proxy.metrics.value(.sharedStoreWriteErrors) + a.proxy.metrics.value(.sharedStoreWritesSkipped) == 20)

                try await server.restart()
                // The probe runs once the back-off (1 s) has passed and a completion arrives.
                let deadline = ContinuousClock.now + .seconds(10)
                var shared: String?
                while shared == nil, ContinuousClock.now < deadline {
                    let id = try await complete(1)[0]
                    if try await b.signature(id).status == 200 { shared = id } else { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(shared != nil)
                #expect(a.proxy.metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 1\n"))

                // The records made while Redis was gone follow: B serves them too, each with at most its TTL left.
                let backfilled = ContinuousClock.now + .seconds(10)
                for id in during {
                    while try await b.signature(id).status != 200, ContinuousClock.now < backfilled {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let answer = try await b.signature(id)
                    #expect(answer.status == 200, "\(id) not backfilled")
                    #expect(answer.body == (try await a.signature(id)).body)
                }
                let metrics = a.proxy.metrics
                #expect(metrics.value(.sharedStoreBacklogged) >= during.count)
                #expect(metrics.value(.sharedStoreBackfilled) >= during.count)
                #expect(metrics.value(.sharedStoreBacklogDropped) == 0)
                let ttl = try await a.proxy.sharedStore!.pool.send(["TTL", a.proxy.sharedStore!.key(ChatID(during[0]))])
                guard case .integer(let seconds) = ttl else { Issue.record("TTL answered \(ttl)"); return }
                #expect(seconds > 0 && seconds <= Int64(a.proxy.configuration.chatCacheExpiration.components.seconds))
            }
        }
    }

    @Test("a Redis that answers PING but refuses writes (out of memory) keeps the store down; once writes work, it comes back with the records made meanwhile")
    func refusesWrites() async throws {
        try await RedisServerProcess.withRedisServer(extraArguments: ["--maxmemory-policy", "noeviction"]) { server in
            let admin = RedisConnectionPool(configuration: server.configuration(), logger: Logger(label: "test"))
            defer { Task { await admin.shutdown() } }
            try await Self.withReplicas(Self.settings(port: server.port)) { a, b in
                // Every write is refused with -OOM from now on; PING and GET still answer.
                _ = try await admin.send(["CONFIG", "SET", "maxmemory", "1"])
                func complete() async throws -> String {
                    let answer = try await a.send(.POST, "/v1/chat/completions", body: Self.jsonRequest)
                    #expect(answer.status == 200)
                    return try Self.chatID(answer, streamed: false)
                }
                var during: [String] = []
                for _ in 0..<5 { during.append(try await complete()) }
                #expect(a.proxy.metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 0\n"))
                // Past the first back-off (1 s) a completion sends the probe, a write: refused, the store stays down.
                try await Task.sleep(for: .milliseconds(1_100))
                during.append(try await complete())
                try await Task.sleep(for: .milliseconds(200))
                #expect(a.proxy.metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 0\n"))
                for id in during { #expect(try await b.signature(id).status == 404) }

                _ = try await admin.send(["CONFIG", "SET", "maxmemory", "0"])
                let deadline = ContinuousClock.now + .seconds(10)
                while !a.proxy.metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 1\n"), ContinuousClock.now < deadline {
                    during.append(try await complete())
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(a.proxy.metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 1\n"))
                let backfilled = ContinuousClock.now + .seconds(5)
                for id in during {
                    while try await b.signature(id).status != 200, ContinuousClock.now < backfilled {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    #expect(try await b.signature(id).status == 200, "\(id) not backfilled")
                }
            }
        }
    }

    @Test("a Redis that accepts and never answers costs a completion at most the write bound, and only until the circuit opens")
    func silentRedis() async throws {
        let silent = try await FakeRedisServer.start(.silent)
        let settings = Self.settings(port: silent.port, write: .milliseconds(100), lookup: .milliseconds(500))
        try await ProxyHarness.run(configure: { $0.sharedStore = settings }) { a in
            let clock = ContinuousClock()
            // Each completion's duration, and whether its own write was waited out (the counter moved during it).
            var durations: [(duration: Duration, waited: Bool)] = []
            var completions = 0
            // The writes wait the bound until their commands time out (the lookup wait, 500 ms here) and fail, which
            // opens the circuit; from then on nothing waits. Bounded: 40 completions at most.
            while a.proxy.metrics.value(.sharedStoreWritesSkipped) == 0, completions < 40 {
                let streamed = completions % 2 == 1
                let start = clock.now
                let timeoutsBefore = a.proxy.metrics.value(.sharedStoreWriteTimeouts)
                let answer = try await a.send(.POST, "/v1/chat/completions", body: streamed ? Self.streamRequest : Self.jsonRequest)
                durations.append((clock.now - start, a.proxy.metrics.value(.sharedStoreWriteTimeouts) > timeoutsBefore))
                completions += 1
                #expect(answer.status == 200)
                if streamed { #expect(answer.text.hasSuffix("data: [DONE]\n\n")) }
                let chatID = try Self.chatID(answer, streamed: streamed)
                _ = try await a.storedRecord(chatID)
                #expect(try await a.signature(chatID).status == 200)
            }
            let timeouts = a.proxy.metrics.value(.sharedStoreWriteTimeouts)
            let skipped = a.proxy.metrics.value(.sharedStoreWritesSkipped)
            #expect(skipped == 1)
            #expect(timeouts >= 3)
            // A write sent as the connection gave up fails at once: neither waited out nor skipped.
            #expect(timeouts + skipped <= completions)
            // Those whose write was waited out waited the bound (durations are not compared with an upper bound, which
            // a busy machine can stretch).
            #expect(durations.filter(\.waited).count == timeouts)
            for (duration, waited) in durations where waited { #expect(duration >= .milliseconds(100)) }
            #expect(a.proxy.metrics.value(.signaturesStored) == completions)
            #expect(a.proxy.metrics.render(storedSignatures: 0).contains("signing_proxy_shared_store_up 0\n"))
        }
        await silent.stop()
    }

    @Test("a client that leaves while its answer waits for the write loses the signature; the next client is served")
    func clientLeavesDuringTheWait() async throws {
        let silent = try await FakeRedisServer.start(.silent)
        let settings = Self.settings(port: silent.port, write: .seconds(1))
        try await ProxyHarness.run(configure: { $0.sharedStore = settings }) { a in
            let (port, request) = try Self.rawCompletion(a)
            let connection = try RawClient.send(port: port, request: Array(request.utf8))
            // The answer is counted when it is ready, then waits for the write: reset during that wait.
            var deadline = ContinuousClock.now + .seconds(5)
            while a.proxy.metrics.value(.jsonResponses) == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            // The body follows its head within milliseconds; the write waits a second.
            try await Task.sleep(for: .milliseconds(200))
            RawClient.reset(connection)
            deadline = ContinuousClock.now + .seconds(5)
            while a.proxy.metrics.value(.signaturesDroppedUndelivered) == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(a.proxy.metrics.value(.signaturesDroppedUndelivered) == 1, "\(a.proxy.metrics.render(storedSignatures: 0))")
            #expect(a.proxy.metrics.value(.signaturesStored) == 0)
            #expect(try await a.send(.POST, "/v1/chat/completions", body: Self.jsonRequest).status == 200)
        }
        await silent.stop()
    }

    @Test("pipelined requests stay in order behind an answer that waits for its write")
    func pipelinedOrder() async throws {
        let silent = try await FakeRedisServer.start(.silent)
        let settings = Self.settings(port: silent.port, write: .milliseconds(200))
        try await ProxyHarness.run(configure: { $0.sharedStore = settings }) { a in
            let (port, completion) = try Self.rawCompletion(a)
            let health = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let reply = try RawClient.exchange(port: port, request: Array((completion + health).utf8))
            let text = String(decoding: reply, as: UTF8.self)
            let completionAt = try #require(text.range(of: "chatcmpl-"))
            let healthAt = try #require(text.range(of: #"{"status":"ok"}"#))
            #expect(completionAt.lowerBound < healthAt.lowerBound)
        }
        await silent.stop()
    }
}
