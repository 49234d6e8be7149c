/// Why an upstream connection was retired without an exchange asking for it.
struct UpstreamProtocolError: Error, CustomStringConvertible {
    private enum Code { case unsolicitedBytes, oversizedAnswer, closedEarly, timedOut }
    private let code: Code

    /// The server sent bytes while no request of ours was outstanding.
    static let unsolicitedBytes = UpstreamProtocolError(code: .unsolicitedBytes)

    /// A fetched answer outgrew its limit.
    static let oversizedAnswer = UpstreamProtocolError(code: .oversizedAnswer)
    /// The connection closed before the answer ended.
    static let closedEarly = UpstreamProtocolError(code: .closedEarly)
    /// Nothing arrived within the idle-read limit.
    static let timedOut = UpstreamProtocolError(code: .timedOut)

    var isTimeout: Bool { code == .timedOut }

    var description: String {
        switch code {
        case .unsolicitedBytes: "upstream sent bytes on an idle connection"
        case .oversizedAnswer: "upstream answer over the limit"
        case .closedEarly: "upstream closed before the answer ended"
        case .timedOut: "upstream did not answer in time"
        }
    }
}
