/// A cipher-level failure, before a dialect turns it into its own `E2EEError`.
///
/// Kept apart from `E2EEError` because the same primitive serves several dialects with different error types.
package struct CipherFailure: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidPublicKey
        case invalidSecretKey
        case malformed
        case authentication
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    package var description: String {
        switch self.code {
        case .invalidPublicKey: "invalid public key"
        case .invalidSecretKey: "invalid secret key"
        case .malformed: "malformed ciphertext"
        case .authentication: "authentication failed"
        }
    }

    /// Whether the failure concerns a key handed in by the caller (not the ciphertext).
    package var isPublicKeyFault: Bool { self.code == .invalidPublicKey }

    package static let invalidPublicKey = Self(.invalidPublicKey)
    package static let invalidSecretKey = Self(.invalidSecretKey)
    package static let malformed = Self(.malformed)
    package static let authentication = Self(.authentication)
}
