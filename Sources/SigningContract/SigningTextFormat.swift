/// How the signed text is laid out (docs/API.md, Signatures), as `SIGNING_TEXT_FORMAT` names it.
package enum SigningTextFormat: String, Sendable, CaseIterable {
    /// `"<request_sha256>:<response_sha256>"`, the Python proxy's format and the default.
    case plain
    /// `"<model>:<request_sha256>:<response_sha256>"`, the Rust proxy's format.
    case model

    /// The text both signatures cover.
    package func text(model: String, requestHash: String, responseHash: String) -> String {
        switch self {
        case .plain: SignedText(model: nil, requestHash: requestHash, responseHash: responseHash).text
        case .model: SignedText(model: model, requestHash: requestHash, responseHash: responseHash).text
        }
    }
}
