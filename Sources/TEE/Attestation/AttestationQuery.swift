/// The query of `GET /v1/attestation/report`, raw; `AttestationService` validates it (docs/API.md, Attestation report).
package struct AttestationQuery: Sendable, Equatable {
    /// `signing_algo`: `ecdsa` (default when nil) or `ed25519`.
    package var signingAlgo: String?
    /// `nonce`: 64 hex characters, either case; nil for a cached report.
    package var nonce: String?
    /// `signing_address`: when set, must be this instance's address for the algorithm.
    package var signingAddress: String?
    /// `include_tls_fingerprint=true` or `version=2`: ask for the TLS-bound `report_data` layout.
    package var includeTLSFingerprint: Bool

    package init(signingAlgo: String? = nil, nonce: String? = nil, signingAddress: String? = nil, includeTLSFingerprint: Bool = false) {
        self.signingAlgo = signingAlgo
        self.nonce = nonce
        self.signingAddress = signingAddress
        self.includeTLSFingerprint = includeTLSFingerprint
    }
}
