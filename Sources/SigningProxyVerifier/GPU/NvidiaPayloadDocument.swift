#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A report (or `all_attestations` entry) read only for its `nvidia_payload` text, to forward to NRAS.
struct NvidiaPayloadDocument: Decodable {
    /// The payload as JSON text: a string field's exact text, or an object field re-encoded.
    struct Text: Decodable {
        var bytes: [UInt8]?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                bytes = Array(string.utf8)
            } else if let payload = try? container.decode(NvidiaPayload.self) {
                bytes = try? Array(JSONEncoder().encode(payload))
            }
        }
    }

    var signingAddress: String?
    var nvidiaPayload: Text?
    var allAttestations: [NvidiaPayloadDocument]?

    private enum CodingKeys: String, CodingKey {
        case signingAddress = "signing_address"
        case nvidiaPayload = "nvidia_payload"
        case allAttestations = "all_attestations"
    }
}
