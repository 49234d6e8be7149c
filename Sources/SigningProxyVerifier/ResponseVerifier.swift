/// Verifies signing-proxy responses and attestation reports, offline, down to Intel's root.
///
/// Give it the bytes you hold: the exact request and response bodies, the `/v1/signature` answer, the
/// `/v1/attestation/report` answer and the 32-byte nonce you asked the report for. Every check is
/// reported with an id, a status and the reason:
///
/// ```swift
/// let verifier = ResponseVerifier(options: VerificationOptions(kmsRootPublicKey: kms, expectedAppID: app))
/// let report = verifier.verify(request: requestBytes, response: responseBytes,
///                              signature: signatureJSON, attestation: reportJSON, nonce: nonce)
/// if !report.ok { print(report.failures) }
/// ```
///
/// Nothing here touches the network. TCB status and revocation need Intel collateral
/// (`VerificationOptions.collateral`) and the GPU verdict needs NVIDIA NRAS's answer
/// (`VerificationOptions.nras`): fetch them yourself (see ``collateralRequest(forQuote:)`` and
/// ``nvidiaPayload(inAttestation:signingAddress:)``), or they are reported as `skip`, never as `pass`.
public struct ResponseVerifier: Sendable {
    /// Expectations and pins used by every check.
    public var options: VerificationOptions
    var anchors = AttestationVerification.Anchors()

    /// Creates a verifier.
    public init(options: VerificationOptions = VerificationOptions()) {
        self.options = options
    }

    /// Verifies one exchange end to end: the signature over the exact bytes, and the attestation that
    /// binds the signing key to a genuine, expected TD.
    ///
    /// - Parameters:
    ///   - request: the request body bytes exactly as sent.
    ///   - response: the response body bytes exactly as received (for streams, every SSE byte).
    ///   - signature: the JSON answer of `GET /v1/signature/{chat_id}`.
    ///   - attestation: the JSON answer of `GET /v1/attestation/report` for the same algorithm.
    ///   - nonce: the 32 bytes sent as `nonce` with the attestation request.
    public func verify(
        request: some Collection<UInt8>,
        response: some Collection<UInt8>,
        signature: some Collection<UInt8>,
        attestation: some Collection<UInt8>,
        nonce: some Collection<UInt8>
    ) -> VerificationReport {
        var checks = CheckList()
        let signer = SignatureVerification.run(
            request: request, response: response, record: signature, options: options, into: &checks)
        guard let signer else {
            checks.fail("report.entry", "no signer to look up: the signature record could not be read")
            return checks.report
        }
        AttestationVerification.run(
            report: attestation, nonce: Array(nonce),
            signer: .init(algorithm: signer.algorithm, address: signer.address),
            options: options, anchors: anchors, into: &checks)
        return checks.report
    }

    /// Verifies only the signature record against the request and response bytes. The signer is not
    /// bound to any attestation: a valid signature from an unattested key proves nothing by itself.
    public func verifySignature(
        request: some Collection<UInt8>,
        response: some Collection<UInt8>,
        signature: some Collection<UInt8>
    ) -> VerificationReport {
        var checks = CheckList()
        _ = SignatureVerification.run(request: request, response: response, record: signature, options: options, into: &checks)
        return checks.report
    }

    /// Verifies an attestation report for `nonce`: quote, DCAP chain, report_data binding, measurements,
    /// compose, key provenance and GPU evidence.
    ///
    /// - Parameter signingAddress: selects the entry of `all_attestations` to check; nil uses the top-level report.
    public func verifyAttestation(
        _ attestation: some Collection<UInt8>,
        nonce: some Collection<UInt8>,
        signingAddress: String? = nil
    ) -> VerificationReport {
        var checks = CheckList()
        AttestationVerification.run(
            report: attestation, nonce: Array(nonce), signer: signingAddress.map { .init(algorithm: nil, address: $0) },
            options: options, anchors: anchors, into: &checks)
        return checks.report
    }

    /// Verifies a bare TDX quote: hex text, raw bytes, or JSON holding `quote` or `intel_quote` (and
    /// optionally `event_log`, which is then replayed).
    public func verifyQuote(_ input: some Collection<UInt8>) -> VerificationReport {
        var checks = CheckList()
        QuoteVerification.run(input, options: options, anchor: anchors.intel, into: &checks)
        return checks.report
    }
}
