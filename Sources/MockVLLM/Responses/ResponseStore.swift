import Synchronization

/// The Responses API answers created with `store` (vLLM's default), by id, for
/// `GET /v1/responses/{id}` and `POST /v1/responses/{id}/cancel`.
///
/// Bounded: beyond ``capacity`` the oldest answer is forgotten, so a long soak or benchmark cannot grow
/// the mock without limit.
final class ResponseStore: Sendable {
    /// Most answers kept.
    static let capacity = 4096

    private struct State {
        var bodies: [String: [UInt8]] = [:]
        var order: [String] = []
        var head = 0
    }

    private let state = Mutex(State())

    init() {}

    /// Keeps `body` as the answer of `id`.
    func store(id: String, body: [UInt8]) {
        self.state.withLock { state in
            if state.bodies.updateValue(body, forKey: id) != nil { return }
            state.order.append(id)
            if state.order.count - state.head > Self.capacity {
                state.bodies[state.order[state.head]] = nil
                state.head += 1
                if state.head > Self.capacity {
                    state.order.removeFirst(state.head)
                    state.head = 0
                }
            }
        }
    }

    /// The stored answer of `id`, if any.
    func body(of id: String) -> [UInt8]? {
        self.state.withLock { $0.bodies[id] }
    }
}
