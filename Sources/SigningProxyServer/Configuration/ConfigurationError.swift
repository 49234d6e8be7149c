/// A configuration problem that stops `serve` from starting; the message says what to set.
package struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    private enum Code: Equatable {
        case missing(variable: String, option: String)
        case invalid(variable: String, reason: String)
        case refused(String)
    }

    private let code: Code

    package static func missing(_ variable: String, option: String) -> ConfigurationError {
        ConfigurationError(code: .missing(variable: variable, option: option))
    }

    package static func invalid(_ variable: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(code: .invalid(variable: variable, reason: reason))
    }

    /// Start-up refused for a reason that is not a single variable (e.g. no key source).
    package static func refused(_ message: String) -> ConfigurationError {
        ConfigurationError(code: .refused(message))
    }

    package var description: String {
        switch code {
        case .missing(let variable, let option): "\(variable) is required (set the variable or pass \(option))"
        case .invalid(let variable, let reason): "\(variable) \(reason)"
        case .refused(let message): message
        }
    }
}
