#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `key-provider` event payload: `{"name": "kms", "id": "<hex>"}`.
struct KeyProviderEvent {
    var name: String
    var kind: UInt8
    var id: [UInt8]

    private struct Payload: Decodable {
        var name: String
        var id: String?
    }

    init?(_ payload: [UInt8]) {
        guard let decoded = try? JSONDecoder().decode(Payload.self, from: Data(payload)) else { return nil }
        name = decoded.name
        switch decoded.name {
        case "none": kind = 0
        case "local", "local-sgx": kind = 1
        case "kms": kind = 2
        case "tpm": kind = 3
        default: return nil
        }
        id = HexFormatting.decode(decoded.id ?? "") ?? []
    }
}
