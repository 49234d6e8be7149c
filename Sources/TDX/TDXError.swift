/// An error from parsing TDX quotes, event logs or dstack attestation blobs.
///
/// The description names what was wrong and where; it never contains key material.
package struct TDXError: Error, CustomStringConvertible, Hashable, Sendable {
    private enum Code: Hashable, Sendable {
        case truncated
        case unsupported
        case malformed
        case mismatch
    }

    private let code: Code
    /// Human-readable reason, e.g. `quote truncated: need 636 bytes, have 600`.
    package let description: String

    private init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// Input ended before a structure was complete.
    package static func truncated(_ what: String, need: Int, have: Int) -> TDXError {
        TDXError(.truncated, "\(what) truncated: need \(need) bytes, have \(have)")
    }

    /// A version, type or kind that this code does not handle.
    package static func unsupported(_ detail: String) -> TDXError {
        TDXError(.unsupported, detail)
    }

    /// Input that is syntactically wrong (bad JSON, bad hex, bad length).
    package static func malformed(_ detail: String) -> TDXError {
        TDXError(.malformed, detail)
    }

    /// Two values that must agree do not.
    package static func mismatch(_ detail: String) -> TDXError {
        TDXError(.mismatch, detail)
    }
}
