#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What an answer of a signed route says about its own signature: the id it is filed under and whether
/// it ended cleanly (docs/API.md, Signatures). signing-proxy signs an answer only when it ended cleanly;
/// an answer cut short, or one that reports a failure, is never signed.
///
/// Written from the route grammars, independently of the proxy's own scanners, so that the two can
/// disagree visibly:
///
/// ```swift
/// let reading = ResponseReading.read(responseBytes, route: .responses, contentType: "text/event-stream")
/// if reading.isSignable, let id = reading.id { /* GET /v1/signature/{id} */ }
/// ```
public struct ResponseReading: Sendable, Hashable {
    /// How the answer ended.
    public enum Ending: Sendable, Hashable {
        /// Complete: a JSON object, or a stream with its terminal event.
        case clean
        /// The answer reports a failure (an `error` or `response.failed` event): never signed.
        case failed(String)
        /// The answer stops before its end (a cut stream, truncated JSON): never signed.
        case incomplete(String)
    }

    /// The id `/v1/signature/{id}` files the answer under, when the answer names one.
    public var id: String?
    /// Whether the answer was read as a server-sent event stream.
    public var isStream: Bool
    /// How the answer ended.
    public var ending: Ending

    /// Whether signing-proxy signs this answer: it has an id and ended cleanly.
    public var isSignable: Bool { id != nil && ending == .clean }

    /// One line for people: the id and how the answer ended.
    public var summary: String {
        let kind = isStream ? "stream" : "JSON answer"
        let name = id.map { "id \($0)" } ?? "no id"
        switch ending {
        case .clean: return "\(kind), \(name), ended cleanly"
        case .failed(let reason): return "\(kind), \(name), reports a failure: \(reason)"
        case .incomplete(let reason): return "\(kind), \(name), incomplete: \(reason)"
        }
    }

    /// Reads `body` as `route` answers it.
    /// - Parameter contentType: the answer's `Content-Type`; `text/event-stream` reads it as a stream,
    ///   anything else (or nil) as JSON.
    public static func read(_ body: some Collection<UInt8>, route: SignedRoute, contentType: String?) -> ResponseReading {
        let isStream = contentType?.lowercased().contains("text/event-stream") == true
        guard isStream else { return readJSON(Array(body)) }
        let stream = ServerSentEvents(body)
        switch route {
        case .chatCompletions, .completions: return readDataStream(stream)
        case .responses: return readNamedStream(stream, route: route)
        case .messages: return readNamedStream(stream, route: route)
        case .embeddings, .rerank, .score, .pooling, .classify:
            return ResponseReading(id: nil, isStream: true, ending: .incomplete("\(route.path) never streams; a stream here is not signed"))
        }
    }

    // MARK: JSON

    private static func readJSON(_ body: [UInt8]) -> ResponseReading {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
            return ResponseReading(id: nil, isStream: false, ending: .incomplete("the body is not complete JSON"))
        }
        guard let object = value.object else {
            return ResponseReading(id: nil, isStream: false, ending: .incomplete("the body is JSON but not an object"))
        }
        guard let id = object["id"]?.string else {
            if object["error"] != nil {
                return ResponseReading(id: nil, isStream: false, ending: .failed("the body is an error object"))
            }
            return ResponseReading(id: nil, isStream: false, ending: .clean)
        }
        return ResponseReading(id: id, isStream: false, ending: .clean)
    }

    // MARK: Streams

    /// Chat and text completions: `data: {json}` events, the id in the first one, `data: [DONE]` last. vLLM
    /// reports a failure mid-stream as a `data: {"error": …}` event and still ends with `[DONE]`: unsigned.
    private static func readDataStream(_ stream: ServerSentEvents) -> ResponseReading {
        let id = stream.events.first.flatMap { object($0.data)?["id"]?.string }
        let done = stream.events.firstIndex(where: { $0.data == "[DONE]" })
        if stream.events[..<(done ?? stream.events.endIndex)].contains(where: { object($0.data)?["error"] != nil }) {
            return ResponseReading(id: id, isStream: true, ending: .failed("a data: {\"error\": …} event"))
        }
        guard let done else {
            let reason = stream.trailingBytes ? "the stream stops inside an event, before data: [DONE]" : "no data: [DONE] event"
            return ResponseReading(id: id, isStream: true, ending: .incomplete(reason))
        }
        if id == nil, done == 0 {
            return ResponseReading(id: nil, isStream: true, ending: .incomplete("data: [DONE] with no event before it"))
        }
        return ResponseReading(id: id, isStream: true, ending: .clean)
    }

    /// Responses and Messages: named events (the `event` field, else the data's `type`), the id in the
    /// first event, a terminal event last; a failure event leaves the answer unsigned whatever follows.
    private static func readNamedStream(_ stream: ServerSentEvents, route: SignedRoute) -> ResponseReading {
        let terminal: Set<String>
        let failures: Set<String>
        let idPath: String
        switch route {
        case .responses:
            terminal = ["response.completed", "response.incomplete"]
            failures = ["response.failed", "error"]
            idPath = "response"
        default:
            terminal = ["message_stop"]
            failures = ["error"]
            idPath = "message"
        }
        let first = stream.events.first.flatMap { object($0.data) }
        let id = first?[idPath]?.object?["id"]?.string
        var ended = false
        for event in stream.events {
            let name = event.name ?? object(event.data)?["type"]?.string ?? "message"
            if failures.contains(name) {
                return ResponseReading(id: id, isStream: true, ending: .failed("an \(name) event"))
            }
            if terminal.contains(name) { ended = true }
        }
        guard ended else {
            let names = terminal.sorted().joined(separator: " or ")
            let reason = stream.trailingBytes ? "the stream stops inside an event, before \(names)" : "no \(names) event"
            return ResponseReading(id: id, isStream: true, ending: .incomplete(reason))
        }
        if id == nil {
            return ResponseReading(id: nil, isStream: true, ending: .incomplete("the first event carries no \(idPath).id"))
        }
        return ResponseReading(id: id, isStream: true, ending: .clean)
    }

    private static func object(_ text: String) -> [String: JSONValue]? {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))?.object
    }
}
