/// dstack's legacy SCALE-encoded `VersionedAttestation` (V0, dstack TDX), as recorded in the
/// simulator's `attestation.bin` (`Fixtures/dstack`).
package struct DstackAttestationBlob: Sendable, Hashable {
    /// A runtime event as the blob records it: name and payload only.
    package struct RuntimeEvent: Sendable, Hashable {
        package var event: String
        package var payload: [UInt8]

        package init(event: String, payload: [UInt8]) {
            self.event = event
            self.payload = payload
        }
    }

    /// The raw quote bytes as recorded (including trailing zero padding).
    package let quoteBytes: [UInt8]
    /// The parsed quote.
    package let quote: TDXQuote
    /// The full (unstripped) TDX event log.
    package let events: [TDXEvent]
    /// The runtime events (RTMR3) by name and payload.
    package let runtimeEvents: [RuntimeEvent]
    /// The report data recorded with the quote (64 bytes).
    package let reportData: [UInt8]
    /// The `config` JSON text (kms_urls, gateway_urls, vm_config, ...).
    package let config: String

    /// Decodes a blob.
    /// - Throws: `TDXError` on an unknown version or kind, truncation, or trailing bytes.
    package init(bytes input: some Collection<UInt8>) throws(TDXError) {
        var reader = SCALEReader(Array(input))
        let version = try reader.u8("version")
        guard version == 0 else { throw .unsupported("attestation version byte \(version) (only legacy V0 = 0)") }
        let kind = try reader.u8("quote kind")
        guard kind == 0 else { throw .unsupported("attestation kind \(kind) (only 0 = dstack TDX)") }
        quoteBytes = try reader.lengthPrefixed("quote")
        quote = try TDXQuote(bytes: quoteBytes)
        let eventCount = try reader.compact("event count")
        var events: [TDXEvent] = []
        for _ in 0..<min(eventCount, reader.remaining) {
            let imr = try reader.u32("event imr")
            let type = try reader.u32("event type")
            let digest = try reader.lengthPrefixed("event digest")
            let name = try reader.string("event name")
            let payload = try reader.lengthPrefixed("event payload")
            events.append(TDXEvent(imr: imr, eventType: type, digest: digest, event: name, eventPayload: payload))
        }
        guard events.count == eventCount else {
            throw .truncated("attestation event list", need: eventCount, have: events.count)
        }
        let runtimeCount = try reader.compact("runtime event count")
        var runtime: [RuntimeEvent] = []
        for _ in 0..<min(runtimeCount, reader.remaining) {
            let name = try reader.string("runtime event name")
            let payload = try reader.lengthPrefixed("runtime event payload")
            runtime.append(RuntimeEvent(event: name, payload: payload))
        }
        guard runtime.count == runtimeCount else {
            throw .truncated("attestation runtime event list", need: runtimeCount, have: runtime.count)
        }
        reportData = try reader.bytes(64, "report data")
        config = try reader.string("config")
        guard reader.remaining == 0 else {
            throw .malformed("attestation has \(reader.remaining) unexpected bytes after config")
        }
        self.events = events
        self.runtimeEvents = runtime
    }
}
