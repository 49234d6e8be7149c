/// What to ask Intel PCS for, read from a quote's PCK certificate: the platform's FMSPC and the CA
/// that issued the PCK certificate.
public struct CollateralRequest: Sendable, Hashable {
    /// FMSPC, 12 lowercase hex digits (the `fmspc` query parameter of the TCB info request).
    public var fmspc: String
    /// `platform` or `processor` (the `ca` query parameter of the PCK CRL request).
    public var pckCA: String

    /// Creates a request.
    public init(fmspc: String, pckCA: String) {
        self.fmspc = fmspc
        self.pckCA = pckCA
    }
}
