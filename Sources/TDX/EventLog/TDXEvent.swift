#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One entry of a dstack event log (`GetQuote`'s `event_log`): a measurement extended into an RTMR.
///
/// JSON form: `{"imr", "event_type", "digest", "event", "event_payload"}` with hex byte fields, plus
/// `"version"` and `"preimage"` for version-2 runtime events.
package struct TDXEvent: Sendable, Hashable, Codable {
    /// Event type of dstack runtime events (RTMR3), 0x08000001.
    package static let dstackRuntimeEventType: UInt32 = 0x0800_0001

    /// Index of the RTMR the event extends (0-based).
    package var imr: UInt32
    /// TCG event type; ``dstackRuntimeEventType`` for dstack runtime events.
    package var eventType: UInt32
    /// The measured digest (48 bytes), or empty when the agent stripped it.
    package var digest: [UInt8]
    /// The event name (runtime events: `app-id`, `compose-hash`, ...).
    package var event: String
    /// The event payload; empty for stripped boot events.
    package var eventPayload: [UInt8]
    /// Runtime event format version; `nil` means version 1.
    package var version: Int?
    /// For version-2 events, the exact bytes that were hashed.
    package var preimage: [UInt8]?

    /// Creates an event from its parts.
    package init(
        imr: UInt32, eventType: UInt32, digest: [UInt8], event: String, eventPayload: [UInt8],
        version: Int? = nil, preimage: [UInt8]? = nil
    ) {
        self.imr = imr
        self.eventType = eventType
        self.digest = digest
        self.event = event
        self.eventPayload = eventPayload
        self.version = version
        self.preimage = preimage
    }

    /// Whether this is a dstack runtime event, whose digest must be recomputed.
    package var isRuntimeEvent: Bool { eventType == Self.dstackRuntimeEventType }

    private enum CodingKeys: String, CodingKey {
        case imr
        case eventType = "event_type"
        case digest
        case event
        case eventPayload = "event_payload"
        case version
        case preimage
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        imr = try container.decode(UInt32.self, forKey: .imr)
        eventType = try container.decode(UInt32.self, forKey: .eventType)
        event = try container.decodeIfPresent(String.self, forKey: .event) ?? ""
        digest = try Self.hex(container, .digest, name: "digest") ?? []
        eventPayload = try Self.hex(container, .eventPayload, name: "event_payload") ?? []
        version = try container.decodeIfPresent(Int.self, forKey: .version)
        preimage = try Self.hex(container, .preimage, name: "preimage")
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(imr, forKey: .imr)
        try container.encode(eventType, forKey: .eventType)
        try container.encode(HexText.encode(digest), forKey: .digest)
        try container.encode(event, forKey: .event)
        try container.encode(HexText.encode(eventPayload), forKey: .eventPayload)
        try container.encodeIfPresent(version, forKey: .version)
        try container.encodeIfPresent(preimage.map { HexText.encode($0) }, forKey: .preimage)
    }

    private static func hex(
        _ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys, name: String
    ) throws -> [UInt8]? {
        guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
        return try HexText.decode(text, field: name)
    }
}
