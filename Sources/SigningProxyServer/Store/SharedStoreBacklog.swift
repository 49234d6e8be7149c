import DequeModule
import NIOCore
import Synchronization

/// Delivered records whose write never reached Redis (the store was down, or the `SET` failed), kept so that they
/// are written once Redis answers again (docs/API.md, "Shared receipt store", Failures): without this, a record made
/// during an outage could only ever be served by its own replica.
///
/// Bounded: past `capacity` the oldest entry (the nearest to its expiry) is dropped. One drain runs at a time.
final class SharedStoreBacklog: Sendable {
    struct Entry: Sendable {
        let key: String
        let value: ByteBuffer
        /// When the record's local copy expires: the write later gets only the seconds left.
        let expiresAt: NIODeadline
    }

    /// 16 384 records of about 600 bytes each (key, value, bookkeeping): about 10 MB at most.
    static let defaultCapacity = 16_384

    /// How long after a drain that failed the next may start: answers to other commands would otherwise restart
    /// it at once, against a Redis that refuses these writes.
    static let retryPause = TimeAmount.seconds(1)

    private struct State {
        var entries = Deque<Entry>()
        var draining = false
        var notBefore = NIODeadline.distantPast
    }

    let capacity: Int
    private let state = Mutex(State())
    /// The entries' count, read without the lock by every answer from Redis (almost always 0).
    private let count = Atomic<Int>(0)

    init(capacity: Int = SharedStoreBacklog.defaultCapacity) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    var isEmpty: Bool { count.load(ordering: .relaxed) == 0 }

    /// Adds `entry`. - Returns: whether an older entry was dropped to make room.
    func add(_ entry: Entry) -> Bool {
        state.withLock { state in
            var dropped = false
            if state.entries.count >= capacity {
                state.entries.removeFirst()
                dropped = true
            }
            state.entries.append(entry)
            count.store(state.entries.count, ordering: .relaxed)
            return dropped
        }
    }

    /// Whether the caller should start draining: entries wait and no drain runs (the caller then owns the drain
    /// until ``take(_:)`` answers nothing or it calls ``putBack(_:)``).
    func beginDrain(now: NIODeadline) -> Bool {
        state.withLock { state in
            guard !state.draining, !state.entries.isEmpty, now >= state.notBefore else { return false }
            state.draining = true
            return true
        }
    }

    /// The next (oldest) `limit` entries, removed; none ends the drain.
    func take(_ limit: Int) -> [Entry] {
        state.withLock { state in
            let batch = Array(state.entries.prefix(limit))
            state.entries.removeFirst(batch.count)
            if batch.isEmpty { state.draining = false }
            count.store(state.entries.count, ordering: .relaxed)
            return batch
        }
    }

    /// Returns entries the drain could not write to the front, oldest first, and ends the drain; the next may begin
    /// at `retryAt`. Entries added meanwhile stay; past `capacity` the oldest are dropped. - Returns: how many were
    /// dropped.
    func putBack(_ entries: [Entry], retryAt: NIODeadline) -> Int {
        state.withLock { state in
            state.notBefore = retryAt
            state.entries.insert(contentsOf: entries, at: 0)
            let excess = max(0, state.entries.count - capacity)
            state.entries.removeFirst(excess)
            state.draining = false
            count.store(state.entries.count, ordering: .relaxed)
            return excess
        }
    }
}
