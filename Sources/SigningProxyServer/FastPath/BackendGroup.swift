import Synchronization

/// The backends that serve the same models (one pool of docs/API.md, "Several backends"), and the
/// round-robin cursor that breaks ties between them.
final class BackendGroup: Sendable {
    let backends: [UpstreamBackend]
    private let cursor = Atomic<Int>(0)

    init(backends: [UpstreamBackend]) {
        precondition(!backends.isEmpty && backends.count <= BackendLayout.maxPoolSize)
        self.backends = backends
    }

    /// The backend for a request (``BackendSelection``), or nil when none is left to try.
    /// - Parameters:
    ///   - tried: bit `i` set for `backends[i]` already tried for this request.
    ///   - allowEjected: the request's first choice may fall back to an ejected backend.
    /// - Returns: the backend and its bit in `tried`.
    func select(tried: UInt64, allowEjected: Bool) -> (backend: UpstreamBackend, bit: UInt64)? {
        if backends.count == 1 {
            return tried == 0 ? (backends[0], 1) : nil
        }
        let start = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        let backends = self.backends
        guard
            let index = BackendSelection.pick(
                count: backends.count, start: start, tried: tried, allowEjected: allowEjected,
                inFlight: { backends[$0].inFlight }, isEjected: { backends[$0].isEjected })
        else { return nil }
        return (backends[index], 1 << UInt64(index))
    }
}
