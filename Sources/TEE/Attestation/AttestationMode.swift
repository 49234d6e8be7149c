/// What backs the attestation reports, shown as the report's `mode` field.
package enum AttestationMode: String, Sendable {
    /// Keys derived by a real dstack guest agent inside an Intel TDX VM.
    case tee
    /// Keys and quotes from the dstack simulator: correct shape, no hardware trust.
    case simulated
    /// `DEV=1`: random or seeded keys, not TEE-derived.
    case dev
}
