import Foundation
import SigningCore
import TDX

/// `tdx-event-log`: `TDXEventLog(json:)` (a JSON array of events, or a JSON string holding one) and the
/// RTMR replay over what it accepts.
///
/// Checks on every log it accepts:
/// - Its own encoding (`jsonArray()`) is a valid JSON array that decodes to the same events, directly
///   and wrapped in a JSON string (the `GetQuote` form).
/// - Replay either fails with an error or yields four 48-byte registers, and gives the same registers
///   for the re-decoded log; an event's measured digest, where it has one, is 48 bytes.
enum EventLogTarget {
    static let target = FuzzTarget(
        name: "tdx-event-log",
        summary: "TDXEventLog and RTMRReplay: encode/decode round trip, replay stable"
    ) { run($0) }

    static func run(_ input: UnsafeRawBufferPointer) {
        guard let log = try? TDXEventLog(json: Array(input)) else { return }

        let encoded = log.jsonArray()
        let kind = encoded.withUnsafeBytes { JSONValidator.validate($0) }
        Invariant.require(kind == .array, "the log's own encoding is not a JSON array (\(String(describing: kind)))")
        guard let decoded = try? TDXEventLog(json: encoded) else { Invariant.fail("the log's own encoding does not decode") }
        Invariant.require(decoded == log, "the log's own encoding decodes to other events")

        guard let wrapped = try? JSONSerialization.data(withJSONObject: String(decoding: encoded, as: UTF8.self), options: .fragmentsAllowed),
            let unwrapped = try? TDXEventLog(json: Array(wrapped))
        else {
            Invariant.fail("the log inside a JSON string does not decode")
        }
        Invariant.require(unwrapped == log, "the log inside a JSON string decodes to other events")

        for event in log.events {
            if let digest = try? RTMRReplay.measuredDigest(of: event) {
                Invariant.require(digest.count == RTMRReplay.digestLength, "a measured digest has \(digest.count) bytes")
            }
        }
        let registers = try? RTMRReplay.replay(log.events)
        if let registers {
            Invariant.require(registers.count == 4 && registers.allSatisfy { $0.count == 48 }, "replay did not give 4 × 48 bytes")
        }
        Invariant.require((try? RTMRReplay.replay(decoded.events)) == registers, "replay of the re-decoded log differs")
    }
}
