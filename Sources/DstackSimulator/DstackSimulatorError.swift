/// A simulator start-up failure: missing or malformed fixtures, or an inconsistent template.
package struct DstackSimulatorError: Error, CustomStringConvertible, Hashable {
    private enum Code: Hashable {
        case fixture(file: String, detail: String)
        case inconsistent(String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// A fixture file is missing or cannot be parsed.
    package static func fixture(_ file: String, _ detail: String) -> DstackSimulatorError {
        .init(.fixture(file: file, detail: detail))
    }

    /// The fixtures do not fit together (e.g. recorded events do not replay to the recorded RTMRs).
    package static func inconsistent(_ detail: String) -> DstackSimulatorError { .init(.inconsistent(detail)) }

    package var description: String {
        switch code {
        case .fixture(let file, let detail): return "dstack simulator fixture \(file): \(detail)"
        case .inconsistent(let detail): return "dstack simulator fixtures are inconsistent: \(detail)"
        }
    }
}
