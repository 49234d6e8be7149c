import Foundation

/// Why the harness stopped.
package struct HarnessError: Error, CustomStringConvertible {
    package let description: String

    package init(description: String) {
        self.description = description
    }

    package static func cannotStart(_ name: String, _ reason: String) -> HarnessError {
        HarnessError(description: "\(name) did not start: \(reason)")
    }

    package static func system(_ call: String) -> HarnessError {
        HarnessError(description: "\(call) failed: errno \(errno)")
    }

    package static func missing(_ what: String) -> HarnessError {
        HarnessError(description: "missing: \(what)")
    }
}
