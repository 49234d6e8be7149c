/// The signed text `[model:]request_sha256:response_sha256` (docs/API.md, Signatures).
///
/// The last two `:`-separated fields are the hashes; everything before the second-to-last `:` is the
/// model name, which may itself contain `:`.
struct SignedText: Sendable, Hashable {
    /// The model name of format B, or nil for format A.
    var model: String?
    /// Lowercase hex SHA-256 of the request body.
    var requestHash: String
    /// Lowercase hex SHA-256 of the response body.
    var responseHash: String

    /// Parses a signed text.
    /// - Returns: the parts, or a reason why the text is not a signed text.
    static func parse(_ text: String) -> Result<SignedText, LenientJSON.Failure> {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count >= 2 else {
            return .failure(.init(description: "signed text has no ':'-separated hashes"))
        }
        let request = String(fields[fields.count - 2])
        let response = String(fields[fields.count - 1])
        for (name, hash) in [("request", request), ("response", response)] where !isLowercaseSHA256Hex(hash) {
            return .failure(.init(description: "signed text: the \(name) hash field is not 64 lowercase hex characters"))
        }
        let model = fields.count > 2 ? fields[..<(fields.count - 2)].joined(separator: ":") : nil
        return .success(SignedText(model: model, requestHash: request, responseHash: response))
    }

    private static func isLowercaseSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
