import Foundation
import Logging

/// Bootstraps swift-log once for the executable: text to stderr, or one JSON object per line.
enum LoggingSetup {
    static func bootstrap(format: String) {
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
