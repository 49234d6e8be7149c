import DequeModule
import Synchronization

/// In-memory map from chat id to a signature record, bounded in size and age (API.md §6).
///
/// - An entry lives `ttl` from its insertion; lookups never extend it.
/// - First writer wins: an unexpired entry is never replaced by `insert`. An expired one may be.
///   `update` changes a record in place (lazy signing fills in signatures) without touching its expiry.
/// - At most `capacity` entries; when full, the least recently stored entry is evicted first.
///
/// Entries are kept in a dictionary plus a FIFO of `(id, expiry, generation)` slots in insertion
/// order. Expired slots are popped from the front whenever the store is used, and the FIFO never holds
/// more than `capacity` slots, so memory stays bounded and every operation is amortized O(1). Each
/// insertion gets a fresh generation: a slot whose generation no longer matches its id's entry (the id
/// expired and was stored again) is stale and is dropped without touching the newer entry.
package final class SignatureStore<Record: Sendable>: Sendable {
    private let capacity: Int
    private let ttl: Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<State>

    /// Creates an empty store.
    /// - Parameters:
    ///   - capacity: maximum number of entries; must be positive.
    ///   - ttl: lifetime of an entry, counted from its insertion.
    ///   - now: the clock, injectable for tests.
    package init(
        capacity: Int,
        ttl: Duration,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        precondition(capacity > 0, "SignatureStore capacity must be positive")
        self.capacity = capacity
        self.ttl = ttl
        self.now = now
        // Reserve up front (within reason) so growth does not rehash inside the lock under load.
        self.state = Mutex(State(reserving: min(capacity, 1 << 16)))
    }

    /// Stores `record` for `chatID` unless an unexpired entry exists for it.
    /// - Returns: `true` if stored; `false` (and nothing stored) if the id is taken.
    package func insert(_ record: Record, for chatID: String) -> Bool {
        let now = self.now()
        let expiry = now + ttl
        let capacity = self.capacity
        return state.withLock { state in
            state.purgeExpired(at: now)
            if let existing = state.entries[chatID], existing.expiry > now {
                return false
            }
            state.store(record, for: chatID, expiry: expiry, capacity: capacity)
            return true
        }
    }

    /// The record stored for `chatID`, or `nil` if there is none or it has expired.
    package func lookup(_ chatID: String) -> Record? {
        let now = self.now()
        return state.withLock { state in
            state.purgeExpired(at: now)
            guard let entry = state.entries[chatID], entry.expiry > now else { return nil }
            return entry.record
        }
    }

    /// Changes the unexpired record stored for `chatID` in place; its expiry and FIFO position stay as they are.
    ///
    /// `transform` runs under the store's lock: keep it short (no signing in it).
    /// - Returns: the record after the change, or `nil` (and nothing changed) if there is none or it has expired.
    @discardableResult
    package func update(_ chatID: String, _ transform: (inout Record) -> Void) -> Record? {
        let now = self.now()
        return state.withLock { state in
            state.purgeExpired(at: now)
            guard var entry = state.entries[chatID], entry.expiry > now else { return nil }
            transform(&entry.record)
            state.entries[chatID] = entry
            return entry.record
        }
    }

    /// The number of unexpired entries.
    package var count: Int {
        let now = self.now()
        return state.withLock { state in
            state.purgeExpired(at: now)
            return state.entries.count
        }
    }

    /// Slots in the FIFO, live or stale; never more than the capacity (for tests and metrics).
    package var queueLength: Int {
        state.withLock { $0.queue.count }
    }
}

// MARK: - State

extension SignatureStore {
    private struct Entry {
        var record: Record
        var expiry: ContinuousClock.Instant
        var generation: UInt64
    }

    /// A FIFO position: the entry for `chatID` stored with `generation`, if it is still there.
    private struct Slot {
        var chatID: String
        var expiry: ContinuousClock.Instant
        var generation: UInt64
    }

    private struct State {
        var entries: [String: Entry]
        var queue: Deque<Slot>
        var nextGeneration: UInt64 = 0

        init(reserving reservation: Int) {
            entries = Dictionary(minimumCapacity: reservation)
            queue = Deque(minimumCapacity: reservation)
        }

        mutating func store(_ record: Record, for chatID: String, expiry: ContinuousClock.Instant, capacity: Int) {
            let generation = nextGeneration
            nextGeneration &+= 1
            entries[chatID] = Entry(record: record, expiry: expiry, generation: generation)
            queue.append(Slot(chatID: chatID, expiry: expiry, generation: generation))
            // Each live entry owns exactly one slot, so bounding the slots bounds the entries.
            while queue.count > capacity {
                dropFront()
            }
        }

        /// Pops slots from the front while they have expired.
        ///
        /// Slots are nearly in expiry order (same TTL, stored in order; concurrent callers may read
        /// the clock slightly out of order), so an expired slot stuck behind a live one is only
        /// delayed, and its id reads as expired meanwhile.
        mutating func purgeExpired(at now: ContinuousClock.Instant) {
            while let first = queue.first, first.expiry <= now {
                dropFront()
            }
        }

        /// Pops the front slot and removes its entry unless a newer insertion owns the id.
        private mutating func dropFront() {
            let slot = queue.removeFirst()
            if entries[slot.chatID]?.generation == slot.generation {
                entries.removeValue(forKey: slot.chatID)
            }
        }
    }
}
