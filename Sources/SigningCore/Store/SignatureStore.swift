import DequeModule
import Synchronization

/// In-memory map from chat id to a signature record, bounded in size and age (docs/API.md, Signatures).
///
/// - Ids are compared by their exact bytes (`ChatID`), never by Unicode equivalence.
/// - An entry lives `ttl` from its insertion; lookups never extend it.
/// - First writer wins: an unexpired entry is never replaced by `insert`. An expired one may be.
///   `update` changes a record in place (lazy signing fills in signatures) without touching its expiry.
/// - At most `capacity` entries; when full, the least recently stored entry is evicted first.
///
/// Entries sit in a FIFO (a `Deque`) in insertion order, each with its id, expiry and record inline,
/// and a dictionary maps each id to the sequence number of its newest entry, which locates it in the
/// FIFO. Records are stored once, in the FIFO's one buffer, so a fixed-size record costs no allocation
/// of its own; the id's bytes are the only per-entry allocation. Expired entries are popped from the
/// front whenever the store is used, and the FIFO never holds more than `capacity` entries, so memory
/// stays bounded and every operation is amortized O(1). An entry that the dictionary no longer points
/// at (its id expired and was stored again) is stale: it is dropped from the front without touching
/// the newer entry.
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
    package func insert(_ record: Record, for chatID: ChatID) -> Bool {
        let now = self.now()
        let expiry = now + ttl
        let capacity = self.capacity
        return state.withLock { state in
            state.purgeExpired(at: now)
            if let position = state.position(of: chatID), state.queue[position].expiry > now {
                return false
            }
            state.store(record, for: chatID, expiry: expiry, capacity: capacity)
            return true
        }
    }

    /// The record stored for `chatID`, or `nil` if there is none or it has expired.
    package func lookup(_ chatID: ChatID) -> Record? {
        let now = self.now()
        return state.withLock { state in
            state.purgeExpired(at: now)
            guard let position = state.position(of: chatID), state.queue[position].expiry > now else { return nil }
            return state.queue[position].record
        }
    }

    /// Changes the unexpired record stored for `chatID` in place; its expiry and FIFO position stay as they are.
    ///
    /// `transform` runs under the store's lock: keep it short (no signing in it).
    /// - Returns: the record after the change, or `nil` (and nothing changed) if there is none or it has expired.
    @discardableResult
    package func update(_ chatID: ChatID, _ transform: (inout Record) -> Void) -> Record? {
        let now = self.now()
        return state.withLock { state in
            state.purgeExpired(at: now)
            guard let position = state.position(of: chatID), state.queue[position].expiry > now else { return nil }
            transform(&state.queue[position].record)
            return state.queue[position].record
        }
    }

    /// The number of unexpired entries.
    package var count: Int {
        let now = self.now()
        return state.withLock { state in
            state.purgeExpired(at: now)
            return state.sequences.count
        }
    }

    /// Entries in the FIFO, live or stale; never more than the capacity (for tests and metrics).
    package var queueLength: Int {
        state.withLock { $0.queue.count }
    }
}

// MARK: - State

extension SignatureStore {
    /// One stored record, at its place in insertion order.
    private struct Entry {
        var chatID: ChatID
        var expiry: ContinuousClock.Instant
        var record: Record
    }

    private struct State {
        /// Each id's newest entry, by sequence number.
        var sequences: [ChatID: UInt64]
        /// Entries in insertion order; `queue[i]` has sequence number `firstSequence + i`.
        var queue: Deque<Entry>
        var firstSequence: UInt64 = 0
        /// Entries the queue has room for; grown by this type so the buffer never overshoots the capacity.
        var reserved: Int

        init(reserving reservation: Int) {
            sequences = Dictionary(minimumCapacity: reservation)
            queue = Deque(minimumCapacity: reservation)
            reserved = reservation
        }

        /// The queue index of `chatID`'s newest entry, expired or not.
        func position(of chatID: ChatID) -> Int? {
            guard let sequence = sequences[chatID] else { return nil }
            return Int(sequence - firstSequence)
        }

        mutating func store(_ record: Record, for chatID: ChatID, expiry: ContinuousClock.Instant, capacity: Int) {
            // Each live entry is in the queue, so bounding the queue bounds the entries.
            while queue.count >= capacity {
                dropFront()
            }
            if queue.count == reserved {
                // Deque's own growth (1.5x) could leave a third of a large buffer unused at capacity.
                reserved = min(capacity, max(16, 2 * reserved))
                queue.reserveCapacity(reserved)
            }
            sequences[chatID] = firstSequence + UInt64(queue.count)
            queue.append(Entry(chatID: chatID, expiry: expiry, record: record))
        }

        /// Pops entries from the front while they have expired.
        ///
        /// Entries are nearly in expiry order (same TTL, stored in order; concurrent callers may read
        /// the clock slightly out of order), so an expired entry stuck behind a live one is only
        /// delayed, and its id reads as expired meanwhile.
        mutating func purgeExpired(at now: ContinuousClock.Instant) {
            while let expiry = queue.first?.expiry, expiry <= now {
                dropFront()
            }
        }

        /// Pops the front entry and forgets its id unless a newer entry owns it.
        private mutating func dropFront() {
            let entry = queue.removeFirst()
            if sequences[entry.chatID] == firstSequence {
                sequences.removeValue(forKey: entry.chatID)
            }
            firstSequence += 1
        }
    }
}
