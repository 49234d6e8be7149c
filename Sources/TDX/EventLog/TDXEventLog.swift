#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A dstack event log: the ordered events that were extended into RTMR0–3.
package struct TDXEventLog: Sendable, Hashable {
    /// Events in log order.
    package var events: [TDXEvent]

    /// Wraps already-decoded events.
    package init(events: [TDXEvent]) {
        self.events = events
    }

    /// Decodes a JSON event log: either an array of events, or a JSON string that holds such an
    /// array (the `GetQuote` form).
    /// - Throws: `TDXError.malformed` with the reason when the JSON does not fit.
    package init(json: some Collection<UInt8>) throws(TDXError) {
        let data = Data(json)
        let decoder = JSONDecoder()
        do {
            if let inner = try? decoder.decode(String.self, from: data) {
                events = try decoder.decode([TDXEvent].self, from: Data(inner.utf8))
            } else {
                events = try decoder.decode([TDXEvent].self, from: data)
            }
        } catch let error as TDXError {
            throw error
        } catch {
            throw .malformed("event log is not a JSON array of events: \(Self.reason(error))")
        }
    }

    /// Encodes the log as a compact JSON array with sorted keys (deterministic; the form dstack nests inside a string).
    package func jsonArray() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return (try? Array(encoder.encode(events))) ?? Array("[]".utf8)
    }

    /// Events that extend RTMR `index`, in log order.
    package func events(imr index: UInt32) -> [TDXEvent] {
        events.filter { $0.imr == index }
    }

    /// A short reason from a DecodingError, without echoing input values.
    private static func reason(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "invalid JSON" }
        switch decoding {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            if let underlying = context.underlyingError as? TDXError {
                return path.isEmpty ? underlying.description : "\(path): \(underlying.description)"
            }
            if case .keyNotFound(let key, _) = decoding {
                return "missing key \(key.stringValue)" + (path.isEmpty ? "" : " at \(path)")
            }
            return path.isEmpty ? "invalid JSON" : "bad value at \(path)"
        @unknown default:
            return "invalid JSON"
        }
    }
}
