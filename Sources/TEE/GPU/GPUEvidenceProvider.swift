/// A source of NVIDIA GPU evidence for attestation reports (docs/API.md, `nvidia_payload`).
package protocol GPUEvidenceProvider: Sendable {
    /// JSON object text for `nvidia_payload` collected for `nonce` (32 bytes).
    ///
    /// Returns `.unavailable` evidence when this host has no usable GPU (no library, no device, CC off);
    /// throws `GPUEvidenceError` when collection failed on a host that has one.
    func evidence(nonce: [UInt8]) async throws -> GPUEvidence
}
