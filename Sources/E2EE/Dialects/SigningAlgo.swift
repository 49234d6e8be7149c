/// `X-Signing-Algo` as DV and NEAR use it to select a suite.
package enum SigningAlgo: String, Hashable, Sendable {
    case ecdsa
    case ed25519

    /// DV trims and lowercases; NEAR only lowercases. Trimming as well accepts what either accepts.
    init?(header: String) {
        self.init(rawValue: header.trimmed.lowercased())
    }
}
