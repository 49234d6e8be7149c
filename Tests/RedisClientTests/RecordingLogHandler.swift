import Logging
import Synchronization

/// Keeps the messages logged through it, so a test can count them; prints nothing.
struct RecordingLogHandler: LogHandler {
    final class Store: Sendable {
        let messages = Mutex<[(Logger.Level, String)]>([])

        var all: [(Logger.Level, String)] { messages.withLock { $0 } }
    }

    let store: Store
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.messages.withLock { $0.append((event.level, event.message.description)) }
    }

    /// A logger that records into `store`.
    static func logger(_ store: Store) -> Logger {
        Logger(label: "redis-test") { _ in RecordingLogHandler(store: store) }
    }
}

extension Logger {
    /// Discards everything: the tests' pools would otherwise print each connect.
    static let quiet = Logger(label: "redis-test") { _ in SwiftLogNoOpLogHandler() }
}
