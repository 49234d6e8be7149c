import Crypto
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Offline checks of the NVIDIA GPU evidence, then NRAS's verdict when given.
enum GPUVerification {
    struct Inputs {
        var payload: NvidiaPayloadField?
        /// The report's `request_nonce`, decoded.
        var nonce: [UInt8]
        /// `gpu_evidence.status` and `.reason`, when the report explains missing or synthetic evidence.
        var status: String?
        var reason: String?
    }

    /// A decoded `evidence_list` item.
    private struct Evidence {
        var report: [UInt8]
        var chain: Result<CertificateChain, LenientJSON.Failure>
    }

    static func run(_ inputs: Inputs, options: VerificationOptions, anchor: TrustAnchor = .nvidiaDeviceIdentityCA, into checks: inout CheckList) {
        var gpuCount: Int?
        defer {
            if let nras = options.nras, let gpuCount {
                NRASVerification.run(nras, nonce: inputs.nonce, gpuCount: gpuCount, now: options.now, into: &checks)
            } else if options.nras != nil {
                checks.skip("gpu.nras", "the report carries no readable GPU evidence for NRAS to judge", mandatory: false)
            } else {
                checks.skip(
                    "gpu.nras",
                    "online: GPU measurements (RIMs) and certificate revocation (OCSP) need NVIDIA NRAS, which was not contacted",
                    mandatory: false)
            }
        }
        let explanation = inputs.status.map { " (gpu_evidence: \($0)\(inputs.reason.map { ", \($0)" } ?? ""))" } ?? ""
        let payload: NvidiaPayload
        switch inputs.payload {
        case nil, .empty?:
            noEvidence("the report carries no nvidia_payload\(explanation)", options: options, into: &checks)
            return
        case .invalid(let reason)?:
            for id in ["gpu.nonce", "gpu.signature", "gpu.chain"] { checks.fail(id, reason) }
            return
        case .payload(let parsed)?:
            payload = parsed
        }
        guard HexFormatting.decode(payload.nonce) == inputs.nonce else {
            checks.fail("gpu.nonce", "nvidia_payload.nonce \(payload.nonce) is not the request nonce")
            for id in ["gpu.signature", "gpu.chain"] { checks.fail(id, "GPU evidence is for another nonce") }
            return
        }
        guard !payload.evidenceList.isEmpty else {
            noEvidence("nvidia_payload carries the nonce but no GPU evidence\(explanation)", options: options, into: &checks)
            return
        }
        gpuCount = payload.evidenceList.count
        let canned = payload.canned == true ? " (payload marked canned: synthetic GPU_NO_HW_MODE evidence)" : ""

        var items: [Evidence] = []
        var nonceProblems: [String] = []
        for (index, item) in payload.evidenceList.enumerated() {
            guard let report = decodeEvidence(item.evidence) else {
                nonceProblems.append("GPU \(index): evidence is not base64 (of raw bytes or of hex text)")
                continue
            }
            if report.count < 36 {
                nonceProblems.append("GPU \(index): report has only \(report.count) bytes")
            } else if Array(report[4..<36]) != inputs.nonce {
                nonceProblems.append("GPU \(index): report bytes 4..36 are \(HexFormatting.short(report[4..<36])), not the nonce")
            }
            let chain: Result<CertificateChain, LenientJSON.Failure>
            if let pem = Data(base64Encoded: item.certificate, options: .ignoreUnknownCharacters), !pem.isEmpty {
                chain = CertificateChain.parse(pem: Array(pem))
            } else {
                chain = .failure(.init(description: "certificate is empty or not base64"))
            }
            items.append(Evidence(report: report, chain: chain))
        }
        if nonceProblems.isEmpty {
            checks.pass("gpu.nonce", "nvidia_payload.nonce and all \(items.count) GPU report(s) carry the request nonce at bytes 4..36\(canned)")
        } else {
            checks.fail("gpu.nonce", nonceProblems.joined(separator: "; "))
        }
        guard items.count == payload.evidenceList.count else {
            for id in ["gpu.signature", "gpu.chain"] { checks.fail(id, "some GPU evidence could not be decoded") }
            return
        }
        checkSignatures(items, canned: canned, into: &checks)
        checkChains(items, anchor: anchor, now: options.now, into: &checks)
    }

    private static func noEvidence(_ reason: String, options: VerificationOptions, into checks: inout CheckList) {
        for id in ["gpu.nonce", "gpu.signature", "gpu.chain"] {
            if options.requireGPUEvidence {
                checks.fail(id, reason + "; GPU evidence is required")
            } else {
                checks.skip(id, reason, mandatory: false)
            }
        }
    }

    /// base64 → bytes; when the bytes are all ASCII hex digits, they are the report's hex text.
    static func decodeEvidence(_ text: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters), !data.isEmpty else { return nil }
        let bytes = Array(data)
        let isHexText = bytes.count % 2 == 0 && bytes.allSatisfy {
            (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0)
        }
        if isHexText, let decoded = HexFormatting.decode(String(decoding: bytes, as: UTF8.self)) { return decoded }
        return bytes
    }

    /// ECDSA P-384 `r‖s` (last 96 bytes) over SHA-384 of the rest, with the leaf certificate's key.
    private static func checkSignatures(_ items: [Evidence], canned: String, into checks: inout CheckList) {
        var problems: [String] = []
        for (index, item) in items.enumerated() {
            guard case .success(let chain) = item.chain else {
                if case .failure(let failure) = item.chain { problems.append("GPU \(index): \(failure.description)") }
                continue
            }
            guard let key = P384.Signing.PublicKey(chain.leaf.publicKey) else {
                problems.append("GPU \(index): the leaf certificate key is not P-384")
                continue
            }
            guard item.report.count > 96 + 37 else {
                problems.append("GPU \(index): report too short to hold a signature")
                continue
            }
            let signed = item.report[..<(item.report.count - 96)]
            guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: item.report.suffix(96)),
                key.isValidSignature(signature, for: SHA384.hash(data: Array(signed)))
            else {
                problems.append("GPU \(index): report signature does not verify with the leaf key")
                continue
            }
        }
        if problems.isEmpty {
            checks.pass("gpu.signature", "all \(items.count) GPU report signature(s) verify (ECDSA P-384 with the GPU leaf key)")
        } else {
            checks.fail("gpu.signature", problems.joined(separator: "; ") + canned)
        }
    }

    private static func checkChains(_ items: [Evidence], anchor: TrustAnchor, now: Date, into checks: inout CheckList) {
        var problems: [String] = []
        for (index, item) in items.enumerated() {
            switch item.chain {
            case .failure(let failure):
                problems.append("GPU \(index): \(failure.description)")
            case .success(let chain):
                if let problem = chain.verify(to: anchor, now: now) { problems.append("GPU \(index): \(problem)") }
            }
        }
        if problems.isEmpty {
            checks.pass("gpu.chain", "all \(items.count) GPU certificate chain(s) verify to the pinned \(anchor.name)")
        } else {
            checks.fail("gpu.chain", problems.joined(separator: "; "))
        }
    }
}
