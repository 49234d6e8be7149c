/// Synthetic GPU evidence for `GPU_NO_HW_MODE=1`: the right shape, bound to the request nonce, proof of nothing.
///
/// Each report is an SPDM 1.1 `GET_MEASUREMENTS` request carrying the nonce (bytes 4..<36, as on real
/// hardware) followed by an empty `MEASUREMENTS` response and an all-zero signature, and the certificate
/// field is empty. The payload carries `"canned": true` and the provider's status is `.canned`, so the
/// report says so twice; NRAS and any offline check of signature or chain reject it, as they must.
package struct CannedEvidenceProvider: GPUEvidenceProvider {
    /// How many identical synthetic GPUs to report.
    package let gpuCount: Int

    package init(gpuCount: Int = 1) {
        self.gpuCount = max(1, gpuCount)
    }

    package func evidence(nonce: [UInt8]) async throws -> GPUEvidence {
        let report = Self.syntheticReport(nonce: nonce)
        let item = NVIDIAPayload.Item(certificate: "", evidence: NVIDIAPayload.evidenceField(report: report))
        let payload = NVIDIAPayload.json(
            nonce: nonce,
            items: Array(repeating: item, count: gpuCount),
            canned: true
        )
        return GPUEvidence(payload: payload, status: .canned)
    }

    /// An SPDM-shaped report with `nonce` as the requester nonce and no measurements.
    static func syntheticReport(nonce: [UInt8]) -> [UInt8] {
        var report: [UInt8] = [0x11, 0xE0, 0x01, 0xFF]  // version 1.1, GET_MEASUREMENTS, signed, all blocks
        report += nonce.prefix(32)
        report += [UInt8](repeating: 0, count: 32 - min(32, nonce.count))
        report.append(0x00)  // slot id
        report += [0x11, 0x60, 0x00, 0x00]  // MEASUREMENTS response header
        report.append(0x00)  // number of blocks
        report += [0x00, 0x00, 0x00]  // measurement record length (24-bit LE)
        report += [UInt8](repeating: 0, count: 32)  // responder nonce
        report += [0x00, 0x00]  // opaque data length
        report += [UInt8](repeating: 0, count: 96)  // P-384 signature r||s: zero, verifies against nothing
        return report
    }
}
