/// The authentication data of a TDX quote: signature, attestation key and QE certification data.
package struct TDXQuoteAuthData: Sendable, Hashable {
    /// Certification data type of a QE report wrapper (the form TDX quotes use).
    package static let qeReportCertificationType: UInt16 = 6
    /// Certification data type of a PEM PCK certificate chain.
    package static let pckChainCertificationType: UInt16 = 5

    /// ECDSA P-256 signature `r‖s` (64 bytes) over the quote header and body.
    package let quoteSignature: [UInt8]
    /// The attestation key as a raw P-256 point `x‖y` (64 bytes).
    package let attestationKey: [UInt8]
    /// The QE's SGX report body (384 bytes).
    package let qeReport: [UInt8]
    /// ECDSA P-256 signature `r‖s` (64 bytes) by the PCK leaf key over ``qeReport``.
    package let qeReportSignature: [UInt8]
    /// QE authentication data (usually 32 bytes).
    package let qeAuthData: [UInt8]
    /// The PCK certificate chain as PEM text: leaf, intermediate CA, root CA.
    package let pckChainPEM: [UInt8]
    /// Absolute ranges in the quote, for tests that tamper with single fields.
    package let quoteSignatureRange: Range<Int>
    package let attestationKeyRange: Range<Int>
    package let qeReportRange: Range<Int>
    package let qeReportSignatureRange: Range<Int>
    package let pckChainRange: Range<Int>

    /// Parses the authentication data at `range` of `quote`.
    init(quote: [UInt8], range: Range<Int>) throws(TDXError) {
        var cursor = range.lowerBound
        let end = range.upperBound
        func take(_ count: Int, _ what: String) throws(TDXError) -> Range<Int> {
            guard count <= end - cursor else {
                throw .truncated("quote \(what)", need: cursor + count - range.lowerBound, have: end - range.lowerBound)
            }
            defer { cursor += count }
            return cursor..<(cursor + count)
        }
        let signature = try take(64, "signature")
        let key = try take(64, "attestation key")
        let outerType = quote.readLE16(at: try take(2, "certification data type").lowerBound)
        guard outerType == Self.qeReportCertificationType else {
            throw .unsupported("certification data type \(outerType) (expected 6, QE report)")
        }
        let outerSize = Int(quote.readLE32(at: try take(4, "certification data size").lowerBound))
        guard outerSize <= end - cursor else {
            throw .truncated("quote certification data", need: outerSize, have: end - cursor)
        }
        let qeReport = try take(384, "QE report")
        let qeSignature = try take(64, "QE report signature")
        let authSize = Int(quote.readLE16(at: try take(2, "QE auth data size").lowerBound))
        let qeAuth = try take(authSize, "QE auth data")
        let innerType = quote.readLE16(at: try take(2, "PCK certification data type").lowerBound)
        guard innerType == Self.pckChainCertificationType else {
            throw .unsupported("inner certification data type \(innerType) (expected 5, PCK chain PEM)")
        }
        let chainSize = Int(quote.readLE32(at: try take(4, "PCK chain size").lowerBound))
        let chain = try take(chainSize, "PCK certificate chain")
        self.quoteSignature = Array(quote[signature])
        self.attestationKey = Array(quote[key])
        self.qeReport = Array(quote[qeReport])
        self.qeReportSignature = Array(quote[qeSignature])
        self.qeAuthData = Array(quote[qeAuth])
        self.pckChainPEM = Array(quote[chain])
        self.quoteSignatureRange = signature
        self.attestationKeyRange = key
        self.qeReportRange = qeReport
        self.qeReportSignatureRange = qeSignature
        self.pckChainRange = chain
    }

    /// QE report REPORTDATA (64 bytes): `sha256(attestation key ‖ QE auth data) ‖ zeros`.
    package var qeReportData: [UInt8] { Array(qeReport[320..<384]) }
    /// QE MRSIGNER (32 bytes).
    package var qeMRSigner: [UInt8] { Array(qeReport[128..<160]) }
    /// QE ISVPRODID.
    package var qeISVProdID: UInt16 { qeReport.readLE16(at: 256) }
    /// QE ISVSVN.
    package var qeISVSVN: UInt16 { qeReport.readLE16(at: 258) }
}
