/// Why a text is not a signed text (`SignedText.parse`).
package struct SignedTextError: Error, Sendable, Hashable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case noSeparator
        case badHash(String)
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// The text has no `:` between two hashes.
    package static let noSeparator = SignedTextError(.noSeparator)

    /// The `field` hash (`request` or `response`) is not 64 lowercase hex digits.
    package static func badHash(field: String) -> SignedTextError { SignedTextError(.badHash(field)) }

    package var description: String {
        switch code {
        case .noSeparator: "signed text has no ':'-separated hashes"
        case .badHash(let field): "signed text: the \(field) hash field is not 64 lowercase hex characters"
        }
    }
}
