/// Which backend of a pool takes a request: the fewest requests in flight among those not ejected,
/// ties broken round robin from a cursor that moves on every choice; when every one is ejected, the
/// same rule over all of them, so a pool that is wholly down still answers as one backend does (502
/// once the connection fails). A pure function, tested without sockets.
enum BackendSelection {
    /// - Parameters:
    ///   - count: the pool's backends, at most 64.
    ///   - start: the round-robin cursor (any value; taken modulo `count`).
    ///   - tried: bit `i` set for a backend already tried for this request; it is never chosen again.
    ///   - allowEjected: choose among ejected backends when no other is left (a request's first choice;
    ///     not after a connect failure, which would only try the next dead one).
    ///   - inFlight: requests in flight on backend `i`.
    ///   - isEjected: whether backend `i` is ejected.
    /// - Returns: the chosen index, or nil when none may be chosen.
    static func pick(
        count: Int, start: Int, tried: UInt64 = 0, allowEjected: Bool,
        inFlight: (Int) -> Int, isEjected: (Int) -> Bool
    ) -> Int? {
        guard count > 0 else { return nil }
        let first = Int(UInt(bitPattern: start) % UInt(count))
        var best: Int?
        var bestLoad = Int.max
        var fallback: Int?
        var fallbackLoad = Int.max
        for offset in 0..<count {
            let index = (first + offset) % count
            guard tried & (1 << UInt64(index)) == 0 else { continue }
            let load = inFlight(index)
            if isEjected(index) {
                if load < fallbackLoad {
                    fallback = index
                    fallbackLoad = load
                }
            } else if load < bestLoad {
                best = index
                bestLoad = load
            }
        }
        return best ?? (allowEjected ? fallback : nil)
    }
}
