import NIOCore
import NIOHTTP1

/// What a client sent while an earlier answer was in flight (HTTP/1.1 pipelining), or while the
/// general router was being set up, kept in order; and whether a read was held back meanwhile, so
/// that no more is read until they are served.
struct HeldRequests {
    enum Item {
        case part(HTTPServerRequestPart)
        /// The decoder hit bytes that are not HTTP after the parts before this: answered with 400
        /// once those are answered.
        case parseError

        /// Whether serving it needs the connection free of any answer in flight.
        var startsRequest: Bool {
            switch self {
            case .part(.head), .parseError: true
            case .part: false
            }
        }
    }

    private var items = CircularBuffer<Item>()
    private var readHeldBack = false

    var isEmpty: Bool { items.isEmpty }
    var first: Item? { items.first }

    mutating func append(_ item: Item) { items.append(item) }
    mutating func prepend(_ item: Item) { items.prepend(item) }
    mutating func removeFirst() -> Item { items.removeFirst() }

    /// Drops everything held (the connection is refused); a held-back read stays held back.
    mutating func removeAll() { items.removeAll() }

    /// The pipeline asked for a read.
    /// - Returns: whether to read now: not while anything is held.
    mutating func readRequested() -> Bool {
        guard items.isEmpty else {
            readHeldBack = true
            return false
        }
        return true
    }

    /// Whether a read held back is due now: nothing is held any more, or `force` (the connection is
    /// refused and its input is drained).
    mutating func takeHeldBackRead(force: Bool = false) -> Bool {
        guard readHeldBack, force || items.isEmpty else { return false }
        readHeldBack = false
        return true
    }
}
