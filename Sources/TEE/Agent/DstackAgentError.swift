/// A failure talking to the dstack guest agent; the description never contains key material.
package struct DstackAgentError: Error, CustomStringConvertible, Hashable {
    private enum Code: Hashable {
        case noEndpoint(String)
        case connect(String)
        case timeout(String)
        case status(Int, String)
        case malformed(String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// No agent endpoint could be found (no socket file, no configured URL).
    package static func noEndpoint(_ detail: String) -> DstackAgentError { .init(.noEndpoint(detail)) }
    /// The connection to the agent failed (refused, reset, closed early).
    package static func connect(_ detail: String) -> DstackAgentError { .init(.connect(detail)) }
    /// The agent did not answer in time.
    package static func timeout(_ detail: String) -> DstackAgentError { .init(.timeout(detail)) }
    /// The agent answered with a non-200 status; `message` is its `error` field or a short body excerpt.
    package static func status(_ status: Int, _ message: String) -> DstackAgentError { .init(.status(status, message)) }
    /// The agent's answer could not be decoded or failed a local check.
    package static func malformed(_ detail: String) -> DstackAgentError { .init(.malformed(detail)) }

    /// The HTTP status for `.status` errors, nil otherwise.
    package var httpStatus: Int? {
        if case .status(let status, _) = code { return status }
        return nil
    }

    /// True for a 404 (method or surface missing).
    package var isNotFound: Bool { httpStatus == 404 }

    /// True when the agent could not be reached at all (no endpoint, refused connection, timeout).
    package var isUnreachable: Bool {
        switch code {
        case .noEndpoint, .connect, .timeout: return true
        case .status, .malformed: return false
        }
    }

    package var description: String {
        switch code {
        case .noEndpoint(let detail): return "dstack agent endpoint not found: \(detail)"
        case .connect(let detail): return "cannot connect to the dstack agent: \(detail)"
        case .timeout(let detail): return "dstack agent timed out: \(detail)"
        case .status(let status, let message): return "dstack agent answered \(status): \(message)"
        case .malformed(let detail): return "malformed dstack agent answer: \(detail)"
        }
    }
}
