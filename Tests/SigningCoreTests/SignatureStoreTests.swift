import SigningCore
import Synchronization
import Testing

@Suite("SignatureStore")
struct SignatureStoreTests {
    private let clock = ManualClock()

    private func makeStore(capacity: Int = 100, ttl: Duration = .seconds(10)) -> SignatureStore<String> {
        let clock = self.clock
        return SignatureStore(capacity: capacity, ttl: ttl, now: { clock.now })
    }

    @Test("insert then lookup")
    func insertAndLookup() {
        let store = makeStore()
        #expect(store.insert("record-a", for: "a"))
        #expect(store.insert("record-b", for: "b"))
        #expect(store.lookup("a") == "record-a")
        #expect(store.lookup("b") == "record-b")
        #expect(store.lookup("c") == nil)
        #expect(store.count == 2)
    }

    @Test("ids that differ only in Unicode normalisation are different keys")
    func normalisationVariantsAreDistinct() {
        let store = makeStore()
        let composed = "chatcmpl-caf\u{E9}"  // NFC: é is U+00E9
        let decomposed = "chatcmpl-cafe\u{301}"  // NFD: e + U+0301
        // Swift compares Strings by canonical equivalence: the very bug a byte key avoids.
        #expect(composed == decomposed)
        #expect(Array(composed.utf8) != Array(decomposed.utf8))
        #expect(ChatID(composed) != ChatID(decomposed))
        #expect(store.insert("nfc", for: ChatID(composed)))
        #expect(store.insert("nfd", for: ChatID(decomposed)))
        #expect(store.lookup(ChatID(composed)) == "nfc")
        #expect(store.lookup(ChatID(decomposed)) == "nfd")
        #expect(store.update(ChatID(decomposed)) { $0 += "!" } == "nfd!")
        #expect(store.lookup(ChatID(composed)) == "nfc")
        #expect(store.count == 2)
        // Other byte-level near misses are distinct too.
        #expect(store.lookup(ChatID(bytes: Array(composed.utf8) + [0])) == nil)
        #expect(store.lookup("CHATCMPL-CAF\u{C9}") == nil)
    }

    @Test("first writer wins and a refused insert stores nothing")
    func firstWriterWins() {
        let store = makeStore()
        #expect(store.insert("first", for: "a"))
        clock.advance(by: .seconds(5))
        #expect(!store.insert("second", for: "a"))
        #expect(store.lookup("a") == "first")
        #expect(store.count == 1)
        #expect(store.queueLength == 1)
        // The refused insert did not restart the TTL either.
        clock.advance(by: .seconds(5))
        #expect(store.lookup("a") == nil)
    }

    @Test("entries expire ttl after insertion")
    func expiry() {
        let store = makeStore(ttl: .seconds(10))
        #expect(store.insert("r", for: "a"))
        clock.advance(by: .seconds(10) - .milliseconds(1))
        #expect(store.lookup("a") == "r")
        #expect(store.count == 1)
        clock.advance(by: .milliseconds(1))
        #expect(store.lookup("a") == nil)
        #expect(store.count == 0)
        #expect(store.queueLength == 0)
    }

    @Test("lookups never extend the TTL")
    func lookupDoesNotExtend() {
        let store = makeStore(ttl: .seconds(10))
        #expect(store.insert("r", for: "a"))
        for _ in 0..<9 {
            clock.advance(by: .seconds(1))
            #expect(store.lookup("a") == "r")
        }
        clock.advance(by: .seconds(1))
        #expect(store.lookup("a") == nil)
    }

    @Test("an expired id can be stored again, with a fresh TTL")
    func reinsertAfterExpiry() {
        let store = makeStore(ttl: .seconds(10))
        #expect(store.insert("old", for: "a"))
        clock.advance(by: .seconds(10))
        #expect(store.insert("new", for: "a"))
        #expect(store.lookup("a") == "new")
        clock.advance(by: .seconds(9))
        #expect(store.lookup("a") == "new")
        clock.advance(by: .seconds(1))
        #expect(store.lookup("a") == nil)
    }

    @Test("a stale FIFO slot does not remove the entry that replaced it")
    func staleSlotKeepsNewerEntry() {
        // Concurrent inserters read the clock before taking the lock, so slots can be slightly out of
        // expiry order. Reproduce that with a clock that steps back: "a" expires behind "x".
        let store = makeStore(capacity: 10, ttl: .seconds(10))
        clock.set(.seconds(5))
        #expect(store.insert("x", for: "x"))  // expires at 15
        clock.set(.seconds(0))
        #expect(store.insert("old", for: "a"))  // expires at 10, queued behind x
        clock.set(.seconds(12))
        #expect(store.lookup("a") == nil)  // expired, though its slot is still queued
        #expect(store.insert("new", for: "a"))  // expires at 22
        #expect(store.queueLength == 3)
        clock.set(.seconds(16))  // pops x and the old slot of a
        #expect(store.lookup("a") == "new")
        #expect(store.lookup("x") == nil)
        #expect(store.count == 1)
        #expect(store.queueLength == 1)
        clock.set(.seconds(22))
        #expect(store.lookup("a") == nil)
        #expect(store.queueLength == 0)
    }

    @Test("stale slots count against the capacity, so the FIFO stays bounded")
    func staleSlotsStayBounded() {
        let store = makeStore(capacity: 4, ttl: .seconds(10))
        // A long-lived entry at the front keeps the expired slots of "a" from being popped.
        clock.set(.seconds(10_000))
        #expect(store.insert("pin", for: "pin"))
        for round in 0..<50 {
            clock.set(.seconds(20 * round))
            // The previous "a" has expired, so each round replaces it and leaves a stale slot.
            #expect(store.insert("r\(round)", for: "a"))
            #expect(store.lookup("a") == "r\(round)")
            #expect(store.queueLength <= 4)
            #expect(store.count <= 2)
        }
    }

    @Test("capacity evicts the least recently stored first")
    func capacityEviction() {
        let store = makeStore(capacity: 3)
        for id in ["a", "b", "c"] {
            #expect(store.insert(id, for: ChatID(id)))
        }
        // Reading "a" must not protect it: eviction follows storage order, not use.
        #expect(store.lookup("a") == "a")
        #expect(store.insert("d", for: "d"))
        #expect(store.lookup("a") == nil)
        #expect(store.count == 3)
        #expect(store.insert("e", for: "e"))
        #expect(store.lookup("b") == nil)
        #expect(["c", "d", "e"].map { store.lookup($0) } == ["c", "d", "e"])
        // An evicted id is free again.
        #expect(store.insert("a2", for: "a"))
        #expect(store.lookup("c") == nil)
        #expect(store.lookup("a") == "a2")
        #expect(store.count == 3)
        #expect(store.queueLength == 3)
    }

    @Test("memory stays bounded: 10x capacity inserts")
    func memoryBound() {
        let capacity = 100
        let store = makeStore(capacity: capacity)
        for index in 0..<(10 * capacity) {
            #expect(store.insert("r\(index)", for: "id\(index)"))
            #expect(store.count <= capacity)
            #expect(store.queueLength <= capacity)
            clock.advance(by: .milliseconds(1))
        }
        #expect(store.count == capacity)
        #expect(store.queueLength == capacity)
        #expect(store.lookup("id\(9 * capacity - 1)") == nil)
        #expect(store.lookup("id\(9 * capacity)") == "r\(9 * capacity)")
        #expect(store.lookup("id\(10 * capacity - 1)") == "r\(10 * capacity - 1)")
        // Everything expires; the next use empties the FIFO.
        clock.advance(by: .seconds(10))
        #expect(store.insert("fresh", for: "fresh"))
        #expect(store.count == 1)
        #expect(store.queueLength == 1)
    }

    @Test("expired entries are purged as time passes under steady inserts")
    func rollingExpiry() {
        let store = makeStore(capacity: 1_000, ttl: .seconds(1))
        for index in 0..<5_000 {
            #expect(store.insert("r", for: "id\(index)"))
            clock.advance(by: .milliseconds(10))
        }
        // One insert per 10 ms, 1 s TTL, clock now at 50 s: ids 4901...4999 are alive.
        #expect(store.count == 99)
        #expect(store.queueLength == 99)
        #expect(store.lookup("id4900") == nil)
        #expect(store.lookup("id4901") == "r")
    }

    @Test("update changes a record in place and keeps its expiry and slot")
    func updateInPlace() {
        let store = makeStore(ttl: .seconds(10))
        #expect(store.insert("text", for: "a"))
        clock.advance(by: .seconds(6))
        #expect(store.update("a") { $0 += "+ecdsa" } == "text+ecdsa")
        #expect(store.lookup("a") == "text+ecdsa")
        #expect(store.count == 1)
        #expect(store.queueLength == 1)
        // Still first writer wins, and the update did not restart the TTL.
        #expect(!store.insert("other", for: "a"))
        clock.advance(by: .seconds(4))
        #expect(store.lookup("a") == nil)
        #expect(store.queueLength == 0)
    }

    @Test("update of an unknown or expired id changes nothing and stores nothing")
    func updateMissing() {
        let store = makeStore(ttl: .seconds(10))
        var calls = 0
        #expect(store.update("nobody") { _ in calls += 1 } == nil)
        #expect(store.insert("r", for: "a"))
        clock.advance(by: .seconds(10))
        #expect(store.update("a") { _ in calls += 1 } == nil)
        #expect(calls == 0)
        #expect(store.count == 0)
        #expect(store.lookup("a") == nil)
    }

    @Test("an update after expiry and re-insertion reaches the new record only")
    func updateAfterReinsert() {
        let store = makeStore(capacity: 2, ttl: .seconds(10))
        #expect(store.insert("old", for: "a"))
        clock.advance(by: .seconds(10))
        #expect(store.insert("new", for: "a"))
        #expect(store.update("a") { $0 += "!" } == "new!")
        // The new record keeps its own full TTL and its one slot.
        clock.advance(by: .seconds(9))
        #expect(store.lookup("a") == "new!")
        #expect(store.queueLength == 1)
    }

    @Test("concurrent inserters: exactly one winner per id")
    func concurrentFirstWriterWins() async {
        let store = SignatureStore<Int>(capacity: 100_000, ttl: .seconds(3_600))
        let tasks = 8
        let ids = 10_000
        let wins = await withTaskGroup(of: (task: Int, won: [Int]).self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var won: [Int] = []
                    for offset in 0..<ids {
                        // Each task walks the ids from a different starting point.
                        let id = (offset + task * ids / tasks) % ids
                        if store.insert(task, for: "chat-\(id)") { won.append(id) }
                        _ = store.lookup("chat-\(id)")
                    }
                    return (task, won)
                }
            }
            var perTask: [(task: Int, won: [Int])] = []
            for await result in group { perTask.append(result) }
            return perTask
        }
        #expect(wins.map(\.won.count).reduce(0, +) == ids)
        #expect(Set(wins.flatMap(\.won)).count == ids)
        #expect(store.count == ids)
        // Every stored record is the one its winner wrote.
        for (task, won) in wins {
            #expect(won.allSatisfy { store.lookup("chat-\($0)") == task }, "task \(task)")
        }
    }

    @Test("concurrent use at capacity keeps the bounds")
    func concurrentBounded() async {
        let capacity = 1_000
        let store = SignatureStore<String>(capacity: capacity, ttl: .seconds(3_600))
        let violations = await withTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var violations = 0
                    for index in 0..<10_000 {
                        let id = "t\(task)-\(index)"
                        if !store.insert(id, for: ChatID(id)) { violations += 1 }
                        if let record = store.lookup("t\(task)-\(index / 2)"), record != "t\(task)-\(index / 2)" {
                            violations += 1
                        }
                        if index % 100 == 0 && (store.count > capacity || store.queueLength > capacity) {
                            violations += 1
                        }
                    }
                    return violations
                }
            }
            return await group.reduce(0, +)
        }
        #expect(violations == 0)
        #expect(store.count == capacity)
        #expect(store.queueLength == capacity)
    }
}

/// A clock for tests: starts at a real instant and moves only when told.
private final class ManualClock: Sendable {
    private let base = ContinuousClock.now
    private let offset = Mutex(Duration.zero)

    var now: ContinuousClock.Instant {
        base + offset.withLock { $0 }
    }

    func advance(by duration: Duration) {
        offset.withLock { $0 += duration }
    }

    /// Moves to `base + offset`, backwards too (to simulate out-of-order clock readings).
    func set(_ newOffset: Duration) {
        offset.withLock { $0 = newOffset }
    }
}
