import TDX

/// `dstack-attestation`: `DstackAttestationBlob(bytes:)`, the SCALE-encoded `attestation.bin` reader.
///
/// Checks on every blob it accepts: the quote inside parses on its own to the same quote; REPORTDATA
/// is 64 bytes; and the blob written back in canonical SCALE (``SCALEWriter``, this harness's own
/// encoder) decodes to the same contents. Canonical re-encoding equals the input whenever the input
/// used the shortest length prefixes.
enum AttestationBlobTarget {
    static let target = FuzzTarget(
        name: "dstack-attestation",
        summary: "DstackAttestationBlob (SCALE): quote consistent, canonical re-encoding round trip"
    ) { run($0) }

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        guard let blob = try? DstackAttestationBlob(bytes: bytes) else { return }
        Invariant.require((try? TDXQuote(bytes: blob.quoteBytes)) == blob.quote, "the blob's quote parses differently alone")
        Invariant.require(blob.reportData.count == 64, "REPORTDATA is \(blob.reportData.count) bytes")

        var writer = SCALEWriter()
        writer.byte(0)
        writer.byte(0)
        writer.lengthPrefixed(blob.quoteBytes)
        writer.compact(blob.events.count)
        for event in blob.events {
            writer.uint32(event.imr)
            writer.uint32(event.eventType)
            writer.lengthPrefixed(event.digest)
            writer.lengthPrefixed(Array(event.event.utf8))
            writer.lengthPrefixed(event.eventPayload)
        }
        writer.compact(blob.runtimeEvents.count)
        for event in blob.runtimeEvents {
            writer.lengthPrefixed(Array(event.event.utf8))
            writer.lengthPrefixed(event.payload)
        }
        writer.bytes += blob.reportData
        writer.lengthPrefixed(Array(blob.config.utf8))

        guard let again = try? DstackAttestationBlob(bytes: writer.bytes) else {
            Invariant.fail("the canonical re-encoding does not decode")
        }
        Invariant.require(again == blob, "the canonical re-encoding decodes to other contents")
        if writer.bytes.count == bytes.count {
            Invariant.require(writer.bytes == bytes, "a blob of canonical length re-encodes to other bytes")
        }
    }
}
