import TDX

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
