#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
