/// One attestation report object (docs/API.md, Response fields), decoded leniently: a field of the wrong type is
/// recorded as a problem for the check that needs it instead of rejecting the whole report.
struct AttestationDocument: Decodable, Sendable {
    var signingAddress: String?
    var signingAlgo: String?
    var signingPublicKey: String?
    var requestNonce: String?
    var intelQuote: String?
    var eventLog: EventLogField?
    var nvidiaPayload: NvidiaPayloadField?
    var info: InfoDocument?
    var tlsCertFingerprint: String?
    var keyProvenance: KeyProvenanceDocument?
    var gpuEvidenceStatus: String?
    var gpuEvidenceReason: String?
    var allAttestations: [AttestationDocument]?

    private enum CodingKeys: String, CodingKey {
        case signingAddress = "signing_address"
        case signingAlgo = "signing_algo"
        case signingPublicKey = "signing_public_key"
        case requestNonce = "request_nonce"
        case intelQuote = "intel_quote"
        case quote
        case eventLog = "event_log"
        case nvidiaPayload = "nvidia_payload"
        case info
        case tlsCertFingerprint = "tls_cert_fingerprint"
        case keyProvenance = "key_provenance"
        case gpuEvidence = "gpu_evidence"
        case allAttestations = "all_attestations"
    }

    private struct GPUEvidenceStatus: Decodable {
        var status: String?
        var reason: String?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func string(_ key: CodingKeys) -> String? { try? container.decodeIfPresent(String.self, forKey: key) }
        signingAddress = string(.signingAddress)
        signingAlgo = string(.signingAlgo)
        signingPublicKey = string(.signingPublicKey)
        requestNonce = string(.requestNonce)
        intelQuote = string(.intelQuote) ?? string(.quote)
        eventLog = container.contains(.eventLog) ? try container.decode(EventLogField.self, forKey: .eventLog) : nil
        nvidiaPayload =
            container.contains(.nvidiaPayload) ? try container.decode(NvidiaPayloadField.self, forKey: .nvidiaPayload) : nil
        info = try? container.decodeIfPresent(InfoDocument.self, forKey: .info)
        tlsCertFingerprint = string(.tlsCertFingerprint)
        keyProvenance = try? container.decodeIfPresent(KeyProvenanceDocument.self, forKey: .keyProvenance)
        let gpu = try? container.decodeIfPresent(GPUEvidenceStatus.self, forKey: .gpuEvidence)
        gpuEvidenceStatus = gpu?.status
        gpuEvidenceReason = gpu?.reason
        allAttestations = try? container.decodeIfPresent([AttestationDocument].self, forKey: .allAttestations)
    }
}
