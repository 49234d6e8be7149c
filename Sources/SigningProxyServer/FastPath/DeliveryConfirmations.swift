/// Signed answers fully written, each waiting for the client's next move before its signature is
/// published or dropped (see ``FastPathRouter``'s `confirmDelivery`), and a client's half-close that
/// arrived meanwhile.
///
/// The decisions are handed back to the caller to run, never run here: running one may close the
/// connection, which reports back into the router while this value is being changed.
struct DeliveryConfirmations {
    typealias Decide = (Bool) -> Void

    private var waiting: [(id: Int, decide: Decide)] = []
    private var nextID = 0
    /// The client closed its side while a delivery was being confirmed: acted on once all are decided.
    private var inputCloseHeld = false

    var isEmpty: Bool { waiting.isEmpty }

    /// Adds an answer to confirm.
    /// - Returns: its id, for ``take(_:)``.
    mutating func add(_ decide: @escaping Decide) -> Int {
        let id = nextID
        nextID += 1
        waiting.append((id, decide))
        return id
    }

    /// Whether `id` is still undecided.
    func isWaiting(_ id: Int) -> Bool {
        waiting.contains { $0.id == id }
    }

    /// Removes one answer's decision, for the caller to run; nil when it was decided already.
    mutating func take(_ id: Int) -> Decide? {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return nil }
        return waiting.remove(at: index).decide
    }

    /// Removes every decision, in the order the answers were written, for the caller to run.
    mutating func takeAll() -> [Decide] {
        defer { waiting = [] }
        return waiting.map(\.decide)
    }

    /// Holds the client's half-close until every delivery is decided.
    /// - Returns: false when none is waiting (nothing to hold for).
    mutating func holdInputClose() -> Bool {
        guard !waiting.isEmpty else { return false }
        inputCloseHeld = true
        return true
    }

    /// The held half-close, once every delivery is decided: the caller acts on it now.
    mutating func releaseInputClose() -> Bool {
        guard waiting.isEmpty, inputCloseHeld else { return false }
        inputCloseHeld = false
        return true
    }
}
