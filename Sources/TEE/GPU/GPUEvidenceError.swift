/// A failure while collecting GPU evidence on a host that has a GPU; the description is safe to show.
package struct GPUEvidenceError: Error, CustomStringConvertible, Hashable {
    private enum Code: Hashable {
        case nvml(function: String, detail: String)
        case timedOut(seconds: Int64)
        case malformed(String)
        case executorShutDown
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// An NVML call returned an error.
    package static func nvml(_ function: String, _ detail: String) -> GPUEvidenceError {
        .init(.nvml(function: function, detail: detail))
    }
    /// Collection (queueing included) took longer than the limit.
    package static func timedOut(after limit: Duration) -> GPUEvidenceError {
        .init(.timedOut(seconds: limit.components.seconds))
    }
    /// NVML returned data that cannot be encoded (sizes out of range, no PEM certificate).
    package static func malformed(_ detail: String) -> GPUEvidenceError { .init(.malformed(detail)) }
    /// The NVML worker was shut down.
    package static let executorShutDown = GPUEvidenceError(.executorShutDown)

    package var description: String {
        switch code {
        case .nvml(let function, let detail): return "\(function) failed: \(detail)"
        case .timedOut(let seconds): return "GPU evidence collection exceeded \(seconds) s"
        case .malformed(let detail): return "malformed GPU evidence: \(detail)"
        case .executorShutDown: return "GPU evidence collector is shut down"
        }
    }
}
