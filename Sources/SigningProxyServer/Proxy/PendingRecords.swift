import SigningCore
import Synchronization

/// Ids whose record is signed and waiting for its last bytes to be written.
///
/// A client that reads the end of an answer can ask for its signature, on another connection and
/// another thread, before the thread that wrote those bytes has heard that the write completed. A
/// lookup that finds its id here waits for the outcome instead of answering 404.
final class PendingRecords: Sendable {
    private let ids = Mutex<[ChatID: Int]>([:])

    func add(_ id: ChatID) {
        ids.withLock { $0[id, default: 0] += 1 }
    }

    func remove(_ id: ChatID) {
        ids.withLock { ids in
            guard let count = ids[id] else { return }
            ids[id] = count > 1 ? count - 1 : nil
        }
    }

    func contains(_ id: ChatID) -> Bool {
        ids.withLock { $0[id] != nil }
    }
}
