/// Image pins: which image the attested compose file runs.
extension ResponseVerifier {
    /// Verifies an attestation report as ``verifyAttestation(_:nonce:signingAddress:)`` does, then checks that its
    /// attested app-compose (`info.tcb_info.app_compose`, bound to the quote by the compose hash) makes `pin.service`
    /// run exactly the expected image digest. The pin means something only when the `compose.hash` check passes too.
    public func verifyAttestation(
        _ attestation: some Collection<UInt8>,
        nonce: some Collection<UInt8>,
        signingAddress: String? = nil,
        imagePin pin: ImagePin
    ) -> VerificationReport {
        var checks = CheckList()
        AttestationVerification.run(
            report: attestation, nonce: Array(nonce), signer: signingAddress.map { .init(algorithm: nil, address: $0) },
            options: options, anchors: anchors, into: &checks)
        ImagePinVerification.run(pin, source: Self.attestedCompose(attestation, signingAddress: signingAddress), into: &checks)
        return checks.report
    }

    /// Checks only that a compose document (an app-compose JSON, or a docker-compose file) pins the expected image:
    /// for reviewing a compose file before it is deployed. Nothing here is attested.
    public func verifyImagePin(composeDocument: some Collection<UInt8>, pin: ImagePin) -> VerificationReport {
        var checks = CheckList()
        ImagePinVerification.run(pin, source: .init(document: Array(composeDocument), origin: "the compose document"), into: &checks)
        return checks.report
    }

    /// `info.tcb_info.app_compose` of the entry the attestation checks read: the one for `signingAddress` in
    /// `all_attestations`, else the top-level report (or its only entry).
    private static func attestedCompose(_ attestation: some Collection<UInt8>, signingAddress: String?) -> ImagePinVerification.Source {
        let origin = "info.tcb_info.app_compose"
        guard case .success(let document) = LenientJSON.decode(AttestationDocument.self, from: attestation, what: "attestation report")
        else {
            return .init(origin: origin, missing: "the report is not valid JSON, so it has no attested app-compose")
        }
        let candidates = document.allAttestations.flatMap { $0.isEmpty ? nil : $0 } ?? [document]
        let entry: AttestationDocument?
        if let signingAddress {
            let wanted = normalize(signingAddress)
            entry = candidates.first { normalize($0.signingAddress ?? "") == wanted }
        } else {
            entry = document.intelQuote == nil && candidates.count == 1 ? candidates[0] : document
        }
        guard let compose = entry?.info?.tcbInfo?.appCompose else {
            return .init(origin: origin, missing: "the report has no info.tcb_info.app_compose")
        }
        return .init(document: Array(compose.utf8), origin: origin)
    }

    private static func normalize(_ address: String) -> String {
        let lower = address.trimmingASCIIWhitespace().lowercased()
        return lower.hasPrefix("0x") ? String(lower.dropFirst(2)) : lower
    }
}
