/// Produces attestation report bodies for `GET /v1/attestation/report` (docs/API.md, Attestation report).
///
/// The route hands over the raw query values; validation and its error answers belong to the reporter.
package protocol AttestationReporting: Sendable {
    /// The report JSON, or an ``OpenAIError`` with the status and type docs/API.md lists for the route.
    func report(signingAlgo: String?, nonce: String?, signingAddress: String?, includeTLSFingerprint: Bool) async throws
        -> [UInt8]
}

/// Used when no attestation backend exists (dev keys and no agent): says so instead of pretending.
package struct UnavailableAttestation: AttestationReporting {
    package let reason: String

    package init(reason: String) {
        self.reason = reason
    }

    package func report(signingAlgo: String?, nonce: String?, signingAddress: String?, includeTLSFingerprint: Bool)
        async throws -> [UInt8]
    {
        throw OpenAIError(status: .serviceUnavailable, type: "service_unavailable", message: reason)
    }
}
