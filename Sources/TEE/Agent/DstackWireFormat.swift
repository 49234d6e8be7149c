// Full Foundation: JSONSerialization keeps the Info object's other keys without a schema.
import Foundation
import SigningCrypto

/// JSON shapes of the v0 guest-agent methods; snake_case on the wire.
enum DstackWireFormat {
    struct GetKeyRequest: Encodable {
        var path: String
        var purpose: String
        var algorithm: String
    }

    struct GetKeyResponse: Decodable {
        var key: String
        var signatureChain: [String]?

        enum CodingKeys: String, CodingKey {
            case key
            case signatureChain = "signature_chain"
        }
    }

    struct GetQuoteRequest: Encodable {
        var reportData: String

        enum CodingKeys: String, CodingKey {
            case reportData = "report_data"
        }
    }

    struct GetQuoteResponse: Decodable {
        var quote: String
        var eventLog: String?
        var reportData: String?
        var vmConfig: String?

        enum CodingKeys: String, CodingKey {
            case quote
            case eventLog = "event_log"
            case reportData = "report_data"
            case vmConfig = "vm_config"
        }
    }

    struct VersionResponse: Decodable {
        var version: String
        var rev: String?
    }

    /// Every field optional: older agents lack some, the external listener blanks others.
    struct InfoResponse: Decodable {
        var appID: String?
        var instanceID: String?
        var composeHash: String?
        var tcbInfo: String?

        enum CodingKeys: String, CodingKey {
            case appID = "app_id"
            case instanceID = "instance_id"
            case composeHash = "compose_hash"
            case tcbInfo = "tcb_info"
        }
    }

    struct TCBInfo: Decodable {
        var appCompose: String?

        enum CodingKeys: String, CodingKey {
            case appCompose = "app_compose"
        }
    }

    struct ErrorResponse: Decodable {
        var error: String
    }

    /// Decodes a JSON answer, naming the method but never echoing the body.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], method: String) throws(DstackAgentError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw .malformed("\(method) answer is not the expected JSON (\(reason(error)))")
        }
    }

    /// Decodes a bytes field: lowercase or uppercase hex with an optional `0x` prefix (agents and SDKs differ).
    static func hex(_ text: String, field: String, method: String) throws(DstackAgentError) -> [UInt8] {
        do {
            return try Hex.decode(text)
        } catch {
            throw .malformed("\(method) field \(field) is not valid hex")
        }
    }

    /// Builds `info` for the attestation report: the Info object with `tcb_info` parsed into an object.
    ///
    /// Keys other than `tcb_info` are kept as the agent sent them; a `tcb_info` that is empty or not a
    /// JSON object (the external listener blanks it) stays a string.
    static func reportObject(fromInfo body: [UInt8]) throws(DstackAgentError) -> [UInt8] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            throw .malformed("Info answer is not JSON")
        }
        guard var object = parsed as? [String: Any] else {
            throw .malformed("Info answer is not a JSON object")
        }
        if let tcbText = object["tcb_info"] as? String, !tcbText.isEmpty,
            let tcb = try? JSONSerialization.jsonObject(with: Data(tcbText.utf8)),
            tcb is [String: Any]
        {
            object["tcb_info"] = tcb
        }
        do {
            return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw .malformed("Info answer cannot be re-encoded")
        }
    }

    /// A short reason from a decoding error, without input values.
    private static func reason(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "invalid JSON" }
        switch decoding {
        case .keyNotFound(let key, _): return "missing \(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "bad type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case .dataCorrupted: return "invalid JSON"
        @unknown default: return "invalid JSON"
        }
    }
}
