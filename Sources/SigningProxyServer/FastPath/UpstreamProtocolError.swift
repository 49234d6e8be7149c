/// Why an upstream connection was retired without an exchange asking for it.
struct UpstreamProtocolError: Error, CustomStringConvertible {
    private enum Code { case unsolicitedBytes }
    private let code: Code

    /// The server sent bytes while no request of ours was outstanding.
    static let unsolicitedBytes = UpstreamProtocolError(code: .unsolicitedBytes)

    var description: String {
        switch code {
        case .unsolicitedBytes: "upstream sent bytes on an idle connection"
        }
    }
}
