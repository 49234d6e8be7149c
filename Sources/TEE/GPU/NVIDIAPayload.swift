import SigningCrypto
import SwiftASN1

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Builds the `nvidia_payload` JSON object (docs/API.md, `nvidia_payload`) the way NVIDIA's nvtrust
/// encodes it for NRAS.
///
/// Encoding follows nvtrust's `cc_admin.collect_gpu_evidence_remote` (local_gpu_verifier 1.x–2.x, the
/// versions behind `nv-ppcie-verifier` 1.6.x used by the Python anchor):
/// - `evidence` = base64 of the **raw report bytes** (`attestationReport[0..<attestationReportSize]`).
///   Some deployed samples carry base64 of the report's hex text instead; verifiers accept both,
///   we emit the nvtrust form.
/// - `certificate` = base64 of the attestation certificate chain re-emitted as canonical PEM: each
///   certificate of `attestationCertChain` parsed and written back as `-----BEGIN CERTIFICATE-----\n`,
///   64-column base64 lines, `-----END CERTIFICATE-----\n`, concatenated leaf first (what nvtrust's
///   `extract_gpu_cert_chain_base64` produces through pyOpenSSL). NUL padding and odd line breaks in
///   NVML's buffer therefore never reach the payload.
enum NVIDIAPayload {
    /// H100 and H200 are both Hopper; NRAS selects its policy by this field.
    static let architecture = "HOPPER"

    /// One GPU's entry in `evidence_list`, already encoded.
    struct Item: Sendable, Equatable {
        var certificate: String
        var evidence: String
    }

    /// The payload object text: `{"nonce","evidence_list","arch"}`, plus `"canned": true` for synthetic evidence.
    static func json(nonce: [UInt8], items: [Item], canned: Bool = false) -> String {
        var list: [UInt8] = [UInt8(ascii: "[")]
        for (index, item) in items.enumerated() {
            if index > 0 { list.append(UInt8(ascii: ",")) }
            var entry = AttestationJSONObject()
            entry.string("certificate", item.certificate)
            entry.string("evidence", item.evidence)
            list.append(contentsOf: entry.json)
        }
        list.append(UInt8(ascii: "]"))

        var object = AttestationJSONObject()
        object.string("nonce", Hex.encode(nonce))
        object.raw("evidence_list", list)
        object.string("arch", architecture)
        if canned { object.bool("canned", true) }
        return object.text
    }

    /// The `evidence` field: base64 of the raw report.
    static func evidenceField(report: [UInt8]) -> String {
        Data(report).base64EncodedString()
    }

    /// The `certificate` field: base64 of the chain in canonical PEM.
    ///
    /// - Throws: `GPUEvidenceError.malformed` when the buffer holds no parseable PEM certificate.
    static func certificateField(pemChain: [UInt8]) throws(GPUEvidenceError) -> String {
        let canonical = try canonicalPEM(pemChain)
        return Data(canonical.utf8).base64EncodedString()
    }

    /// Every `CERTIFICATE` block of `pemChain`, re-emitted in OpenSSL's PEM layout with a final newline each.
    ///
    /// Reading is lenient like OpenSSL's (any line length, CRLF, blanks, NUL padding after the last block);
    /// each block must still decode to well-formed DER.
    static func canonicalPEM(_ pemChain: [UInt8]) throws(GPUEvidenceError) -> String {
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        var rest = Substring(String(decoding: pemChain.prefix { $0 != 0 }, as: UTF8.self))
        var output = ""
        while let opening = rest.range(of: begin) {
            guard let closing = rest[opening.upperBound...].range(of: end) else {
                throw .malformed("certificate chain has an unterminated PEM block")
            }
            let body = rest[opening.upperBound..<closing.lowerBound].filter { !$0.isWhitespace }
            guard let der = Data(base64Encoded: String(body)), !der.isEmpty, (try? DER.parse(Array(der))) != nil else {
                throw .malformed("certificate chain holds a PEM block that is not DER")
            }
            output += PEMDocument(type: "CERTIFICATE", derBytes: Array(der)).pemString + "\n"
            rest = rest[closing.upperBound...]
        }
        guard !output.isEmpty else { throw .malformed("certificate chain holds no certificate") }
        return output
    }
}
