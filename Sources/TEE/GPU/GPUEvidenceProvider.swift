/// A source of NVIDIA GPU evidence for attestation reports (API.md §8.4).
package protocol GPUEvidenceProvider: Sendable {
    /// JSON object text for `nvidia_payload` (API.md §8.4) collected for `nonce` (32 bytes).
    ///
    /// Returns `.unavailable` evidence when this host has no usable GPU (no library, no device, CC off);
    /// throws `GPUEvidenceError` when collection failed on a host that has one.
    func evidence(nonce: [UInt8]) async throws -> GPUEvidence
}
