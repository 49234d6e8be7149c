import TDX

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One attestation report object (API.md §8.3), decoded leniently: a field of the wrong type is
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

/// `event_log`: a JSON array of events, or such an array inside a string; invalid content is kept as
/// a reason so the measurement check can report it.
enum EventLogField: Decodable, Sendable {
    case events([TDXEvent])
    case invalid(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            do {
                self = .events(try TDXEventLog(json: Array(text.utf8)).events)
            } catch {
                self = .invalid(error.description)
            }
        } else {
            do {
                self = .events(try container.decode([TDXEvent].self))
            } catch let error as TDXError {
                self = .invalid("event_log: \(error.description)")
            } catch {
                self = .invalid("event_log is neither a JSON array of events nor a string holding one (\(LenientJSON.reason(error)))")
            }
        }
    }
}

/// `nvidia_payload`: a JSON string holding the payload object (or, from some proxies, the object).
enum NvidiaPayloadField: Decodable, Sendable {
    case payload(NvidiaPayload)
    case empty
    case invalid(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .empty
        } else if let text = try? container.decode(String.self) {
            if text.trimmingASCIIWhitespace().isEmpty {
                self = .empty
                return
            }
            switch LenientJSON.decode(NvidiaPayload.self, from: Array(text.utf8), what: "nvidia_payload") {
            case .success(let payload): self = .payload(payload)
            case .failure(let failure): self = .invalid(failure.description)
            }
        } else if let payload = try? container.decode(NvidiaPayload.self) {
            self = .payload(payload)
        } else {
            self = .invalid("nvidia_payload is neither a JSON string nor a payload object")
        }
    }
}

/// The GPU evidence payload (VERIFICATION.md §7.1).
struct NvidiaPayload: Decodable, Sendable {
    struct Item: Decodable, Sendable {
        var certificate: String
        var evidence: String
    }

    var nonce: String
    var evidenceList: [Item]
    var arch: String?
    var canned: Bool?

    private enum CodingKeys: String, CodingKey {
        case nonce
        case evidenceList = "evidence_list"
        case arch
        case canned
    }
}

/// The `info` object: the dstack `Info` answer with `tcb_info` parsed.
struct InfoDocument: Decodable, Sendable {
    var appID: String?
    var composeHash: String?
    var tcbInfo: TCBInfoDocument?

    private enum CodingKeys: String, CodingKey {
        case appID = "app_id"
        case composeHash = "compose_hash"
        case tcbInfo = "tcb_info"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        appID = try? container.decodeIfPresent(String.self, forKey: .appID)
        composeHash = try? container.decodeIfPresent(String.self, forKey: .composeHash)
        if let object = try? container.decodeIfPresent(TCBInfoDocument.self, forKey: .tcbInfo) {
            tcbInfo = object
        } else if let text = try? container.decodeIfPresent(String.self, forKey: .tcbInfo) {
            // Some agents and proxies leave tcb_info as the agent's JSON string.
            tcbInfo = try? JSONDecoder().decode(TCBInfoDocument.self, from: Data(text.utf8))
        }
    }
}

/// `info.tcb_info`: only the fields the verifier reads.
struct TCBInfoDocument: Decodable, Sendable {
    var appCompose: String?
    var eventLog: [TDXEvent]?

    private enum CodingKeys: String, CodingKey {
        case appCompose = "app_compose"
        case eventLog = "event_log"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        appCompose = try? container.decodeIfPresent(String.self, forKey: .appCompose)
        eventLog = try? container.decodeIfPresent([TDXEvent].self, forKey: .eventLog)
    }
}

/// `key_provenance` (API.md §8.3): the dstack `GetKey` chain of the signing key.
struct KeyProvenanceDocument: Decodable, Sendable {
    var path: String?
    var purpose: String?
    var algorithm: String?
    var publicKey: String?
    var signatureChain: [String]?
    var appID: String?

    private enum CodingKeys: String, CodingKey {
        case path
        case purpose
        case algorithm
        case publicKey = "public_key"
        case signatureChain = "signature_chain"
        case appID = "app_id"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func string(_ key: CodingKeys) -> String? { try? container.decodeIfPresent(String.self, forKey: key) }
        path = string(.path)
        purpose = string(.purpose)
        algorithm = string(.algorithm)
        publicKey = string(.publicKey)
        signatureChain = try? container.decodeIfPresent([String].self, forKey: .signatureChain)
        appID = string(.appID)
    }
}
