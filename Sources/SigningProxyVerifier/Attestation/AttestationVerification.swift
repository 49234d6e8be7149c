import SigningContract
import TDX

/// All checks of one attestation report.
enum AttestationVerification {
    /// Trust anchors; tests substitute their own.
    struct Anchors {
        var intel: TrustAnchor = .intelSGXRootCA
        var nvidia: TrustAnchor = .nvidiaDeviceIdentityCA
    }

    /// The signer whose entry is wanted: from a verified signature record, or given by the caller.
    struct WantedSigner {
        var algorithm: SignatureAlgorithm?
        var address: String
    }

    static func run(
        report reportBytes: some Collection<UInt8>, nonce: [UInt8], signer: WantedSigner?, options: VerificationOptions,
        anchors: Anchors = Anchors(), into checks: inout CheckList
    ) {
        let document: AttestationDocument
        switch LenientJSON.decode(AttestationDocument.self, from: reportBytes, what: "attestation report") {
        case .failure(let failure):
            checks.fail("report.json", failure.description)
            return
        case .success(let decoded):
            document = decoded
        }
        guard let entry = selectEntry(document, signer: signer, into: &checks) else { return }

        // Nonce.
        let requestNonce = entry.requestNonce.flatMap(HexFormatting.decode)
        if nonce.count != 32 {
            checks.fail("report.nonce", "the expected nonce must be 32 bytes, got \(nonce.count)")
        } else {
            checks.expect(
                requestNonce == nonce, "report.nonce",
                pass: "request_nonce equals our nonce \(HexFormatting.short(nonce))",
                fail: "request_nonce \(entry.requestNonce ?? "(missing)") is not our nonce \(HexFormatting.full(nonce)) (replayed or foreign report)")
        }

        // Key consistency.
        let algorithm = SignatureAlgorithm(rawValue: entry.signingAlgo?.lowercased() ?? "") ?? signer?.algorithm ?? .ecdsa
        let boundSigner = ReportBinding.checkKeyConsistency(entry, algorithm: algorithm, into: &checks)

        // Quote.
        guard let quoteHex = entry.intelQuote else {
            checks.fail("quote.parse", "the report has no intel_quote")
            return
        }
        let quote: TDXQuote
        do {
            guard let bytes = HexFormatting.decode(quoteHex) else {
                checks.fail("quote.parse", "intel_quote is not hex")
                return
            }
            quote = try TDXQuote(bytes: bytes)
        } catch {
            checks.fail("quote.parse", "intel_quote: \(error.description)")
            return
        }
        checks.pass("quote.parse", "TDX quote v\(quote.version), \(quote.length) bytes (+\(quote.bytes.count - quote.length) zero padding)")
        DCAPVerification.run(quote: quote, anchor: anchors.intel, options: options, into: &checks)
        ReportBinding.checkReportData(
            quote: quote, signer: boundSigner, nonce: nonce, fingerprintText: entry.tlsCertFingerprint, options: options,
            into: &checks)
        QuoteVerification.checkDebug(quote, into: &checks)

        // Measurements: the report's event_log, else the full log inside info.tcb_info.
        let (runtimeEvents, unavailable) = MeasurementVerification.run(
            quote: quote, eventLog: entry.eventLog, fallback: entry.info?.tcbInfo?.eventLog, required: true,
            options: options, into: &checks)
        ComposeVerification.run(
            .init(
                quote: quote, runtimeEvents: runtimeEvents, eventsUnavailable: unavailable,
                appCompose: entry.info?.tcbInfo?.appCompose, infoAppID: entry.info?.appID, requireCompose: true),
            options: options, into: &checks)

        KeyProvenanceVerification.run(
            .init(
                provenance: entry.keyProvenance, algorithm: algorithm,
                signingPublicKey: entry.signingPublicKey.flatMap(HexFormatting.decode),
                attestedAppID: runtimeEvents.flatMap { RuntimeEventPolicy.payload("app-id", in: $0) }),
            options: options, into: &checks)

        GPUVerification.run(
            .init(payload: entry.nvidiaPayload, nonce: requestNonce ?? nonce, status: entry.gpuEvidenceStatus, reason: entry.gpuEvidenceReason),
            options: options, anchor: anchors.nvidia, into: &checks)
    }

    /// Picks the entry for `signer` from `all_attestations` (else the top-level object).
    private static func selectEntry(
        _ document: AttestationDocument, signer: WantedSigner?, into checks: inout CheckList
    ) -> AttestationDocument? {
        let id = "report.entry"
        let candidates = document.allAttestations.flatMap { $0.isEmpty ? nil : $0 } ?? [document]
        let source = document.allAttestations == nil ? "the report" : "all_attestations (\(candidates.count) \(candidates.count == 1 ? "entry" : "entries"))"
        guard let signer else {
            let entry = document.intelQuote == nil && candidates.count == 1 ? candidates[0] : document
            checks.pass(
                id, "no signer given: using the top-level report for signing_address \(entry.signingAddress ?? "(none)")")
            return entry
        }
        let wanted = normalize(signer.address)
        guard let entry = candidates.first(where: { normalize($0.signingAddress ?? "") == wanted }) else {
            checks.fail(id, "no entry in \(source) has signing_address \(signer.address): the key is not attested by this report")
            return nil
        }
        if let algorithm = signer.algorithm, let declared = entry.signingAlgo, declared.lowercased() != algorithm.rawValue {
            checks.fail(id, "the entry for \(signer.address) is for \(declared), but the signature is \(algorithm.rawValue)")
            return nil
        }
        checks.pass(id, "entry for signing_address \(signer.address) found in \(source)")
        return entry
    }

    private static func normalize(_ address: String) -> String {
        let lower = address.trimmingASCIIWhitespace().lowercased()
        return lower.hasPrefix("0x") ? String(lower.dropFirst(2)) : lower
    }
}
