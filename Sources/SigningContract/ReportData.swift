import Crypto

/// The 64 bytes bound into the TDX quote's REPORT_DATA (docs/API.md, `report_data`): built by the proxy,
/// checked by the verifier and the demo.
package enum ReportData {
    /// Plain layout: `signer ‖ zeros` (32 bytes) ‖ `nonce`; TLS-bound when `tlsFingerprint` is set:
    /// `SHA-256(signer ‖ fp)` ‖ `nonce`.
    ///
    /// - Parameters:
    ///   - signer: the 20-byte Ethereum address (ecdsa) or the 32-byte ed25519 public key.
    ///   - nonce: 32 bytes.
    ///   - tlsFingerprint: the raw 32-byte SHA-256 of the TLS certificate's SubjectPublicKeyInfo.
    package static func make(signer: [UInt8], nonce: [UInt8], tlsFingerprint: [UInt8]?) -> [UInt8] {
        precondition(nonce.count == 32, "report_data nonce must be 32 bytes")
        return head(signer: signer, tlsFingerprint: tlsFingerprint) + nonce
    }

    /// The first 32 bytes: `signer ‖ zeros`, or `SHA-256(signer ‖ fp)` when TLS-bound.
    package static func head(signer: [UInt8], tlsFingerprint: [UInt8]?) -> [UInt8] {
        precondition(signer.count <= 32, "report_data signer is longer than 32 bytes")
        if let tlsFingerprint {
            return Array(SHA256.hash(data: signer + tlsFingerprint))
        }
        return signer + [UInt8](repeating: 0, count: 32 - signer.count)
    }

    /// REPORT_DATA of a TDX quote: bytes 568..<632 of a v4 quote, 574..<638 of a v5 quote.
    ///
    /// - Returns: nil for other versions or a quote too short to hold the field.
    package static func fromQuote(_ quote: [UInt8]) -> ArraySlice<UInt8>? {
        guard quote.count >= 2 else { return nil }
        let version = UInt16(quote[0]) | UInt16(quote[1]) << 8
        let start: Int
        switch version {
        case 4: start = 568
        case 5: start = 574
        default: return nil
        }
        guard quote.count >= start + 64 else { return nil }
        return quote[start..<(start + 64)]
    }
}

extension ReportData {
    /// The TLS binding value (docs/API.md, `report_data`): SHA-256 of the certificate's SubjectPublicKeyInfo
    /// DER, so that a renewed certificate over the same key keeps the binding.
    package static func tlsFingerprint(subjectPublicKeyInfoDER: some Collection<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(subjectPublicKeyInfoDER)))
    }
}
