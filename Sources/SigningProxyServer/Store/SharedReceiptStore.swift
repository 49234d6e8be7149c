import Crypto
import Logging
import NIOCore
import NIOPosix
import RedisClient
import ServiceLifecycle
import SigningCore
import SigningCrypto
import Synchronization

/// Signed records shared by every replica of one app through Redis (docs/API.md, "Shared receipt store").
///
/// Every replica of an app signs with the same keys (dstack derives them from the app's identity), so any replica
/// can serve a record another one made, and checks it with its own keys before it does: a value in Redis is
/// trusted no more than a lookup's caller. Only signed records are written. Keys are
/// `signing-proxy:sig:<signing address, lowercase>:<chat id bytes>`, values ``SharedRecordFormat``, each with the
/// signature store's TTL, first writer wins (`SET NX EX`).
///
/// Redis being slow, down or answering garbage never fails a completion: every wait is bounded, and
/// ``SharedStoreHealth`` stops using Redis for a while after failures in a row. Delivered records that Redis did not
/// get wait in a bounded ``SharedStoreBacklog`` and are written once it answers again.
package final class SharedReceiptStore: Service, Sendable {
    /// What a record's write came to.
    enum WriteOutcome: Equatable, Sendable {
        /// Written: this replica was first.
        case stored
        /// The key exists: another replica (or an earlier exchange) stored this id first.
        case taken
        /// No usable answer (error, lost connection, garbage).
        case failed
        /// Not sent: the store is down (``SharedStoreHealth``).
        case skipped
    }

    /// What a lookup in Redis came to.
    enum LookupOutcome: Sendable {
        case found(SignatureRecord)
        /// No such key, or a value that is not a record signed with this replica's keys (counted as an error).
        case missing
        /// No answer within the lookup wait, an error, or the store is down.
        case unavailable
    }

    package let settings: SharedStoreSettings
    package let pool: RedisConnectionPool
    let health = SharedStoreHealth()
    /// Delivered records that did not reach Redis, written once it answers again.
    let backlog: SharedStoreBacklog
    let writeTimeout: TimeAmount
    let lookupTimeout: TimeAmount
    private let ttlSeconds: Int
    /// Prefix of the records' keys.
    let recordPrefix: String
    /// Prefix of the E2EE replay claims' keys.
    package let replayPrefix: String
    /// The key the circuit breaker's probe writes.
    let probeKey: String
    private let signer: ExchangeSigner
    private let ecdsaPublicKey: Secp256k1PublicKey
    private let metrics: ProxyMetrics
    private let logger: Logger
    /// Garbage values are counted each time, logged the first time only (a caller could ask for one in a loop).
    private let garbageLogged = Atomic(false)

    /// - Parameter ttl: `CHAT_CACHE_EXPIRATION`, the local store's too.
    package init(settings: SharedStoreSettings, ttl: Duration, signer: ExchangeSigner, metrics: ProxyMetrics, logger: Logger) {
        var redis = settings.redis
        // Commands run on after the answer's wait has passed (a late answer still decides a duplicate or a DEL), so
        // their own timeout is longer: at least a second.
        redis.commandTimeout = max(redis.commandTimeout, .nanoseconds(settings.lookupTimeout.nanoseconds))
        self.settings = settings
        self.pool = RedisConnectionPool(configuration: redis, logger: logger)
        self.writeTimeout = .nanoseconds(settings.writeTimeout.nanoseconds)
        self.lookupTimeout = .nanoseconds(settings.lookupTimeout.nanoseconds)
        self.ttlSeconds = Int(max(1, ttl.components.seconds))
        self.backlog = SharedStoreBacklog()
        // Scoped by the signing address: apps sharing one Redis never see each other's ids.
        let address = "0x" + Hex.encode(signer.keys.ecdsaAddress.bytes)
        self.recordPrefix = "signing-proxy:sig:\(address):"
        self.replayPrefix = "signing-proxy:e2ee:\(address):"
        self.probeKey = "signing-proxy:probe:\(address)"
        self.signer = signer
        self.ecdsaPublicKey = signer.keys.ecdsa.publicKey
        self.metrics = metrics
        self.logger = logger
        metrics.setSharedStoreUp(true)
    }

    /// The Redis key of `chatID`'s record: the prefix, then the id's bytes (ids come from JSON strings: UTF-8).
    package func key(_ chatID: ChatID) -> String {
        recordPrefix + chatID.description
    }

    // MARK: Service

    /// Checks Redis once at start (a wrong password or address shows in the log at once, not at the first
    /// completion), then closes the pool at shutdown.
    package func run() async throws {
        do throws(RedisClientError) {
            try await pool.ping()
            logger.info("shared receipt store ready", metadata: ["redis": "\(settings)"])
        } catch {
            // Not fatal, and not counted against the store: completions find out for themselves, and until Redis
            // answers their records stay in this replica.
            logger.warning("shared receipt store: Redis does not answer at start", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
        await pool.shutdown()
    }

    // MARK: Records

    /// Starts writing `record` (both signatures present) under `chatID`; the write reports its answer on `eventLoop`.
    func write(_ record: SignatureRecord, for chatID: ChatID, on eventLoop: any EventLoop) -> SharedRecordWrite {
        let key = key(chatID)
        guard let value = SharedRecordFormat.encode(record) else {
            // Only signed records leave the process.
            return SharedRecordWrite(store: self, record: nil, eventLoop: eventLoop, outcome: .skipped)
        }
        let entry = SharedStoreBacklog.Entry(key: key, value: value, expiresAt: .now() + .seconds(Int64(ttlSeconds)))
        guard permitted() else {
            metrics.increment(.sharedStoreWritesSkipped)
            return SharedRecordWrite(store: self, record: entry, eventLoop: eventLoop, outcome: .skipped)
        }
        let write = SharedRecordWrite(store: self, record: entry, eventLoop: eventLoop, outcome: nil)
        let answer = pool.set(key, to: value, expireSeconds: ttlSeconds, onlyIfAbsent: true, on: eventLoop)
        write.start(Self.result(answer), within: writeTimeout)
        return write
    }

    /// A write's answer, whether it came within its wait or after it: Redis's health is judged by the answer, not by
    /// the wait, which a busy replica's own CPU can outlast while Redis is fine. A write with no answer at all fails
    /// when its command times out (at least a second).
    func writeAnswered(_ result: Result<Bool, RedisClientError>) {
        switch result {
        case .success(let stored):
            metrics.increment(stored ? .sharedStoreWrites : .sharedStoreDuplicates)
            answered()
        case .failure(let error):
            metrics.increment(.sharedStoreWriteErrors)
            report(health.failed(), error: "\(error)")
        }
    }

    /// A write's wait ended before its answer: the answer's bytes went without it (counted; its answer still decides).
    func writeOutwaited() {
        metrics.increment(.sharedStoreWriteTimeouts)
    }

    /// A reply future as a result, its error a `RedisClientError`.
    static func result<Value: Sendable>(_ future: EventLoopFuture<Value>) -> EventLoopFuture<Result<Value, RedisClientError>> {
        future.map { .success($0) }.recover { .failure(($0 as? RedisClientError) ?? .connectionClosed) }
    }

    /// Deletes the record our write stored (or may have stored: a write whose reply was lost), whose answer never
    /// reached its client; only while the key holds this record's value.
    func retract(_ entry: SharedStoreBacklog.Entry) {
        let (pool, metrics) = (pool, metrics)
        Task {
            do throws(RedisClientError) {
                if try await pool.delete(entry.key, ifValue: entry.value) { metrics.increment(.sharedStoreRetractions) }
            } catch {
                // It stays until its TTL: other replicas may serve the signature of an answer its client did not get
                // in full (docs/API.md, "Shared receipt store").
                metrics.increment(.sharedStoreWriteErrors)
            }
        }
    }

    /// The record another replica stored for `chatID`, checked against this replica's keys; answered on `eventLoop`
    /// within the lookup wait.
    func lookup(_ chatID: ChatID, on eventLoop: any EventLoop) -> EventLoopFuture<LookupOutcome> {
        guard permitted() else { return eventLoop.makeSucceededFuture(.unavailable) }
        let answer = Self.result(pool.get(key(chatID), on: eventLoop))
        return Self.bounded(answer, within: lookupTimeout).map { [self] answer in
            switch answer {
            case .none:
                metrics.increment(.sharedStoreLookupErrors)
                report(health.failed(), error: "no answer within REDIS_LOOKUP_TIMEOUT_MS")
                return .unavailable
            case .some(.failure(let error)):
                metrics.increment(.sharedStoreLookupErrors)
                report(health.failed(), error: "\(error)")
                return .unavailable
            case .some(.success(nil)):
                answered()
                return .missing
            case .some(.success(let value?)):
                answered()
                guard let record = SharedRecordFormat.decode(value), verifies(record) else {
                    metrics.increment(.sharedStoreLookupErrors)
                    if !garbageLogged.exchange(true, ordering: .relaxed) {
                        logger.warning(
                            "a shared store value is not a record signed with this replica's keys; answered as a miss (logged once)",
                            metadata: ["chat.id": "\(chatID)"])
                    }
                    return .missing
                }
                return .found(record)
            }
        }
    }

    /// Whether both signatures of `record` are this replica's over the text its hashes give.
    func verifies(_ record: SignatureRecord) -> Bool {
        guard let ecdsa = record.ecdsaSignature, let ed25519 = record.ed25519Signature else { return false }
        let message = Array(signer.text(of: record).utf8)
        guard let signature = try? Secp256k1RecoverableSignature(rsv: ecdsa.bytes),
            let signer = try? signature.recoverPublicKey(digest: PersonalSign.digest(message: message)),
            signer == ecdsaPublicKey
        else { return false }
        return self.signer.keys.ed25519.publicKey.isValidSignature(ed25519.bytes, for: message)
    }

    // MARK: E2EE replay claims

    /// Claims `key` (SET NX EX) for `ttlSeconds`: true the first time, false when it exists, nil without an answer
    /// within the write wait (or while the store is down).
    func claim(_ key: String, ttlSeconds: Int64) async -> Bool? {
        guard permitted() else { return nil }
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let fullKey = replayPrefix + key
        let answer = Self.result(
            pool.set(fullKey, to: ByteBuffer(string: "1"), expireSeconds: Int(max(1, ttlSeconds)), onlyIfAbsent: true, on: eventLoop))
        switch try? await Self.bounded(answer, within: writeTimeout).get() {
        case .some(.success(let fresh)):
            answered()
            return fresh
        case .some(.failure(let error)):
            report(health.failed(), error: "\(error)")
            return nil
        case .none:
            report(health.failed(), error: "no answer within REDIS_WRITE_TIMEOUT_MS")
            return nil
        }
    }

    // MARK: Records Redis did not get

    /// Records written per pipelined batch when the backlog is drained.
    static let backfillBatch = 64

    /// Keeps a delivered record that Redis did not get, to write it once Redis answers again.
    func keepForLater(_ entry: SharedStoreBacklog.Entry) {
        metrics.increment(.sharedStoreBacklogged)
        if backlog.add(entry) { metrics.increment(.sharedStoreBacklogDropped) }
        // Kept while the store is up (a write that failed alone, or one skipped just before the store came back):
        // no later answer may come to start the drain.
        if health.isUp { drainBacklogIfDue() }
    }

    /// Starts writing the backlog unless it is empty or being written.
    private func drainBacklogIfDue() {
        guard !backlog.isEmpty, backlog.beginDrain(now: .now()) else { return }
        Task { await self.drainBacklog() }
    }

    /// Writes the backlog oldest first, a pipelined batch at a time, each record with the seconds its local copy has
    /// left (`SET NX EX`: an id another replica stored meanwhile stays theirs). The first batch with a failure puts
    /// its unwritten records back and stops: the next answer from Redis, a second later at the soonest, starts again.
    /// These are retries: their outcomes do not count for the circuit breaker, which judges Redis by the completions'
    /// own writes, lookups and claims (a retry failing beside them would open it sooner than documented).
    private func drainBacklog() async {
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        while true {
            let batch = backlog.take(Self.backfillBatch)
            guard !batch.isEmpty else { return }
            let now = NIODeadline.now()
            var live: [(entry: SharedStoreBacklog.Entry, answer: EventLoopFuture<Result<Bool, RedisClientError>>)] = []
            for entry in batch {
                let secondsLeft = (entry.expiresAt - now).nanoseconds / 1_000_000_000
                // Expired here too (or about to): nobody can look it up any more.
                guard secondsLeft >= 1 else {
                    metrics.increment(.sharedStoreBacklogDropped)
                    continue
                }
                let answer = pool.set(entry.key, to: entry.value, expireSeconds: Int(secondsLeft), onlyIfAbsent: true, on: eventLoop)
                live.append((entry, Self.result(answer)))
            }
            var unwritten: [SharedStoreBacklog.Entry] = []
            for (entry, answer) in live {
                // Stored, or already there: most often this replica's own earlier SET, whose reply was lost.
                if case .success? = try? await answer.get() {
                    metrics.increment(.sharedStoreBackfilled)
                } else {
                    unwritten.append(entry)
                }
            }
            guard unwritten.isEmpty else {
                for _ in 0..<backlog.putBack(unwritten, retryAt: .now() + SharedStoreBacklog.retryPause) {
                    metrics.increment(.sharedStoreBacklogDropped)
                }
                return
            }
        }
    }

    // MARK: Health

    /// An operation got its answer from Redis: the store is up, and records it did not get can be written.
    private func answered() {
        health.succeeded()
        drainBacklogIfDue()
    }

    /// Whether to use Redis now; starts the probe when it is due.
    private func permitted() -> Bool {
        switch health.permission() {
        case .use:
            return true
        case .skip:
            return false
        case .probe:
            // A write, as the records' are (a Redis that answers PING may still refuse writes: read-only after a
            // failover, out of memory), with the command timeout rather than the write wait: nothing waits for the
            // probe, and a busy replica must not fail it for its own slowness.
            let (pool, key) = (pool, probeKey)
            Task {
                let answered: Bool
                do throws(RedisClientError) {
                    _ = try await pool.set(key, to: ByteBuffer(string: "1"), expireSeconds: 60, onlyIfAbsent: false)
                    answered = true
                } catch {
                    answered = false
                }
                self.report(self.health.probed(answered), error: nil)
                if answered { self.drainBacklogIfDue() }
            }
            return false
        }
    }

    /// Logs and exports a change of state, once per change.
    private func report(_ change: SharedStoreHealth.Change?, error: String?) {
        switch change {
        case nil:
            return
        case .wentDown:
            metrics.setSharedStoreUp(false)
            logger.warning(
                "shared receipt store down: records stay in this replica, lookups and replay claims answer from memory; probing Redis",
                metadata: [
                    "error": "\(error ?? "")", "failures": "\(SharedStoreHealth.failuresToOpen)",
                    "backoff_ms": "\(SharedStoreHealth.initialBackoff.nanoseconds / 1_000_000)",
                ])
        case .cameBack:
            metrics.setSharedStoreUp(true)
            logger.notice("shared receipt store up again: records are shared")
        }
    }

    /// `future`'s value, or nil if `timeout` passes first (the value that comes later is dropped).
    static func bounded<Value: Sendable>(_ future: EventLoopFuture<Value>, within timeout: TimeAmount) -> EventLoopFuture<Value?> {
        let eventLoop = future.eventLoop
        let promise = eventLoop.makePromise(of: Value?.self)
        let timer = eventLoop.scheduleTask(in: timeout) { promise.succeed(nil) }
        future.whenComplete { result in
            timer.cancel()
            // A promise completed by the timer ignores this second completion.
            promise.completeWith(result.map { $0 })
        }
        return promise.futureResult
    }

    /// Closes the pool's connections (for tests that build the application without running it as a service).
    package func shutdown() async {
        await pool.shutdown()
    }
}
