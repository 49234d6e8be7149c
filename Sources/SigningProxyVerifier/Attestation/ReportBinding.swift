import SigningContract
import SigningCrypto
import TDX

/// Nonce, signer key and TLS fingerprint bound in the quote's REPORT_DATA (docs/API.md, `report_data`).
enum ReportBinding {
    /// The signer as the report states it.
    struct Signer {
        var algorithm: SignatureAlgorithm
        /// 20-byte address (ecdsa) or 32-byte public key (ed25519): the bytes bound in report_data.
        var boundBytes: [UInt8]
    }

    /// `signing_address` ↔ `signing_public_key`; returns the signer bytes bound in report_data.
    static func checkKeyConsistency(
        _ entry: AttestationDocument, algorithm: SignatureAlgorithm, into checks: inout CheckList
    ) -> Signer? {
        let id = "report.key-consistency"
        guard let address = entry.signingAddress?.trimmingASCIIWhitespace(), let keyText = entry.signingPublicKey,
            let key = HexFormatting.decode(keyText)
        else {
            checks.fail(id, "signing_address or signing_public_key is missing or not hex")
            return nil
        }
        switch algorithm {
        case .ecdsa:
            guard let claimed = try? EthereumAddress(string: address) else {
                checks.fail(id, "signing_address is not a 20-byte Ethereum address")
                return nil
            }
            let sec1 = key.count == 64 ? [0x04] + key : key
            guard let point = try? Secp256k1PublicKey(sec1: sec1) else {
                checks.fail(id, "signing_public_key is not a secp256k1 point (x‖y)")
                return nil
            }
            let derived = EthereumAddress(publicKey: point)
            checks.expect(
                derived == claimed, id,
                pass: "signing_address \(claimed.checksummed) is the address of signing_public_key",
                fail: "signing_public_key has address \(derived.checksummed), not signing_address \(claimed.checksummed)")
            return Signer(algorithm: .ecdsa, boundBytes: claimed.bytes)
        case .ed25519:
            guard let claimed = HexFormatting.decode(address), claimed.count == 32 else {
                checks.fail(id, "ed25519 signing_address is not a 32-byte hex key")
                return nil
            }
            checks.expect(
                claimed == key, id,
                pass: "ed25519 signing_address equals signing_public_key",
                fail: "ed25519 signing_address differs from signing_public_key")
            return Signer(algorithm: .ed25519, boundBytes: claimed)
        }
    }

    /// `rd[32..64] == nonce` and `rd[0..32]` = signer ‖ zeros, or sha256(signer ‖ fingerprint) when TLS-bound.
    static func checkReportData(
        quote: TDXQuote, signer: Signer?, nonce: [UInt8], fingerprintText: String?, options: VerificationOptions,
        into checks: inout CheckList
    ) {
        let id = "quote.report-data"
        let reportData = quote.reportData
        let fingerprint = fingerprintText.flatMap(HexFormatting.decode)
        if fingerprintText != nil, fingerprint?.count != 32 {
            checks.fail(id, "tls_cert_fingerprint is not 32 bytes of hex")
        } else if let signer {
            let expectedHead = ReportData.head(signer: signer.boundBytes, tlsFingerprint: fingerprint)
            let layout = fingerprint == nil ? "signer ‖ zeros" : "sha256(signer ‖ TLS fingerprint)"
            var problems: [String] = []
            if Array(reportData[32..<64]) != nonce {
                problems.append("report_data[32..64] = \(HexFormatting.short(reportData[32..<64])) is not the nonce")
            }
            if Array(reportData[0..<32]) != expectedHead {
                problems.append("report_data[0..32] = \(HexFormatting.short(reportData[0..<32])) is not \(layout)")
            }
            if problems.isEmpty {
                checks.pass(id, "report_data = \(layout) ‖ nonce (\(fingerprint == nil ? "plain" : "TLS-bound") layout)")
            } else {
                checks.fail(id, problems.joined(separator: "; "))
            }
        } else {
            checks.fail(id, "no signer key to compare with (see report.key-consistency)")
        }
        checkTLS(fingerprint: fingerprint, options: options, into: &checks)
    }

    private static func checkTLS(fingerprint: [UInt8]?, options: VerificationOptions, into checks: inout CheckList) {
        let id = "quote.tls-binding"
        guard let fingerprint else {
            if options.requireTLSBinding {
                checks.fail(id, "TLS binding required, but the report has no tls_cert_fingerprint (plain layout)")
            } else {
                checks.skip(id, "plain report_data layout; TLS binding not requested", mandatory: false)
            }
            return
        }
        guard let observed = options.observedTLSFingerprint else {
            if options.requireTLSBinding {
                checks.fail(id, "TLS binding required, but no certificate fingerprint of the connection was given to compare")
            } else {
                checks.skip(
                    id,
                    "report binds TLS fingerprint \(HexFormatting.short(fingerprint)); not compared with a live connection's certificate",
                    mandatory: false)
            }
            return
        }
        checks.expect(
            observed == fingerprint, id,
            pass: "tls_cert_fingerprint equals the SPKI SHA-256 of the certificate on the connection",
            fail: "tls_cert_fingerprint \(HexFormatting.short(fingerprint)) is not the connection's certificate "
                + HexFormatting.short(observed))
    }
}
