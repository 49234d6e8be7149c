import TDX

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
