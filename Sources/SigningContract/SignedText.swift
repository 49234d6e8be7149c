import Crypto
import SigningCrypto

/// The text both signatures of an exchange cover: `[model:]sha256(request):sha256(response)`
/// (docs/API.md, Signatures).
///
/// The last two `:`-separated fields are the hashes, each 64 lowercase hex digits; everything before the
/// second-to-last `:` is the model name, which may itself contain `:` (and may be empty).
package struct SignedText: Sendable, Hashable {
    /// The model name of the `model` format, or nil for the `plain` format.
    package var model: String?
    /// Lowercase hex SHA-256 of the request body.
    package var requestHash: String
    /// Lowercase hex SHA-256 of the response body.
    package var responseHash: String

    package init(model: String? = nil, requestHash: String, responseHash: String) {
        self.model = model
        self.requestHash = requestHash
        self.responseHash = responseHash
    }

    /// The signed text of these exact request and response bytes.
    package init(request: some Collection<UInt8>, response: some Collection<UInt8>, model: String? = nil) {
        self.init(model: model, requestHash: Self.sha256Hex(request), responseHash: Self.sha256Hex(response))
    }

    /// The text as signed.
    package var text: String {
        if let model { return "\(model):\(requestHash):\(responseHash)" }
        return "\(requestHash):\(responseHash)"
    }

    /// Parses a signed text.
    /// - Returns: the parts, or a `SignedTextError` naming the field that is not what the format needs.
    package static func parse(_ text: String) -> Result<SignedText, SignedTextError> {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count >= 2 else { return .failure(.noSeparator) }
        let request = String(fields[fields.count - 2])
        let response = String(fields[fields.count - 1])
        guard isLowercaseSHA256Hex(request) else { return .failure(.badHash(field: "request")) }
        guard isLowercaseSHA256Hex(response) else { return .failure(.badHash(field: "response")) }
        let model = fields.count > 2 ? fields[..<(fields.count - 2)].joined(separator: ":") : nil
        return .success(SignedText(model: model, requestHash: request, responseHash: response))
    }

    /// Lowercase hex of SHA-256 over `bytes`, as the signed text writes it.
    package static func sha256Hex(_ bytes: some Collection<UInt8>) -> String {
        let digest =
            bytes.withContiguousStorageIfAvailable { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
            ?? SHA256.hash(data: Array(bytes))
        return Hex.encode(digest)
    }

    private static func isLowercaseSHA256Hex(_ text: String) -> Bool {
        text.utf8.count == 64
            && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
