/// When an exchange's signatures are computed (`SIGNING_MODE`).
package enum SigningMode: String, Sendable, CaseIterable {
    /// Both signatures are computed and stored before the response's last bytes are written.
    case eager
    /// Only the signed text is stored; each algorithm's signature is computed on the first lookup
    /// that asks for it, then kept in the same in-memory record.
    case lazy
}
