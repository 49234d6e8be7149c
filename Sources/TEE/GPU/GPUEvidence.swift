/// GPU evidence ready for a report: the `nvidia_payload` text and how it was obtained.
package struct GPUEvidence: Sendable, Equatable {
    /// How the evidence in `payload` came about.
    package enum Status: Sendable, Equatable {
        /// Collected from `gpuCount` GPUs through NVML.
        case collected(gpuCount: Int)
        /// Synthetic evidence (`GPU_NO_HW_MODE`): shaped like real evidence, verifies against nothing.
        case canned
        /// No evidence: `reason` says why (no NVML library, no GPU, confidential computing off, ...).
        case unavailable(reason: String)
    }

    /// JSON object text: `{"nonce": <64 hex>, "evidence_list": [...], "arch": "HOPPER"}` (+ `"canned": true`).
    package var payload: String
    package var status: Status

    package init(payload: String, status: Status) {
        self.payload = payload
        self.status = status
    }
}
