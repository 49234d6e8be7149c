/// Failures of the mock vLLM server's own machinery (not the vLLM errors it answers with).
package struct MockVLLMError: Error, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case serverDidNotStart
        case deliberateCut
        case clientGone
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// The server stopped before it reported its port.
    package static let serverDidNotStart = Self(.serverDidNotStart)
    /// The response was cut on purpose (`failAfter`); thrown so the connection closes mid-body.
    package static let deliberateCut = Self(.deliberateCut)
    /// The client closed its side of the connection while a paced stream was running.
    package static let clientGone = Self(.clientGone)

    package var description: String {
        switch self.code {
        case .serverDidNotStart: "mock vLLM server stopped before it was listening"
        case .deliberateCut: "response cut on purpose (fail-after)"
        case .clientGone: "client closed the connection mid-stream"
        }
    }
}
