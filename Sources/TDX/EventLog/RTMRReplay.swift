import Crypto

/// Replays an event log into RTMR0–3.
///
/// Each RTMR starts as 48 zero bytes; every event extends its RTMR with `sha384(rtmr ‖ digest)`.
/// Digests of dstack runtime events are always recomputed from name and payload (a supplied digest
/// must agree when present); boot events use their supplied 48-byte digest.
package enum RTMRReplay {
    /// Number of runtime measurement registers.
    package static let registerCount = 4
    /// Size of an RTMR and of every event digest (SHA-384).
    package static let digestLength = 48

    /// Computes RTMR0–3 from `events`.
    /// - Returns: four 48-byte values.
    /// - Throws: `TDXError` for an out-of-range `imr`, a boot event without a 48-byte digest, a runtime
    ///   event whose supplied digest or preimage disagrees with its content, or an unknown version.
    package static func replay(_ events: [TDXEvent]) throws(TDXError) -> [[UInt8]] {
        var registers = [[UInt8]](repeating: [UInt8](repeating: 0, count: digestLength), count: registerCount)
        for (index, event) in events.enumerated() {
            guard event.imr < registerCount else {
                throw .malformed("event \(index) (\(describe(event))): imr \(event.imr) is not 0...3")
            }
            let digest = try measuredDigest(of: event, index: index)
            registers[Int(event.imr)] = extend(registers[Int(event.imr)], with: digest)
        }
        return registers
    }

    /// `sha384(register ‖ digest)`.
    package static func extend(_ register: [UInt8], with digest: [UInt8]) -> [UInt8] {
        var hasher = SHA384()
        hasher.update(data: register)
        hasher.update(data: digest)
        return Array(hasher.finalize())
    }

    /// The digest an event contributes to its RTMR (recomputed for runtime events).
    package static func measuredDigest(of event: TDXEvent, index: Int = 0) throws(TDXError) -> [UInt8] {
        guard event.isRuntimeEvent else {
            guard event.digest.count == digestLength else {
                throw .malformed(
                    "event \(index) (\(describe(event))): boot event digest has \(event.digest.count) bytes, expected 48")
            }
            return event.digest
        }
        let digest: [UInt8]
        switch event.version ?? 1 {
        case 1:
            digest = runtimeDigestV1(event: event.event, payload: event.eventPayload)
        case 2:
            let preimage = runtimePreimageV2(event: event.event, payload: event.eventPayload)
            if let supplied = event.preimage, supplied != preimage {
                throw .mismatch("event \(index) (\(describe(event))): supplied v2 preimage differs from the JCS of name and payload")
            }
            digest = Array(SHA384.hash(data: preimage))
        case let other:
            throw .unsupported("event \(index) (\(describe(event))): runtime event version \(other)")
        }
        if !event.digest.isEmpty, event.digest != digest {
            throw .mismatch("event \(index) (\(describe(event))): supplied digest differs from the recomputed one")
        }
        return digest
    }

    /// Version-1 runtime digest: `sha384(u32_le(0x08000001) ‖ ":" ‖ event ‖ ":" ‖ payload)`.
    package static func runtimeDigestV1(event: String, payload: [UInt8]) -> [UInt8] {
        var hasher = SHA384()
        let type = TDXEvent.dstackRuntimeEventType
        hasher.update(data: [UInt8(type & 0xff), UInt8(type >> 8 & 0xff), UInt8(type >> 16 & 0xff), UInt8(type >> 24)])
        hasher.update(data: Array(":".utf8))
        hasher.update(data: Array(event.utf8))
        hasher.update(data: Array(":".utf8))
        hasher.update(data: payload)
        return Array(hasher.finalize())
    }

    /// Version-2 preimage: RFC 8785 JSON `{"name":event,"payload":hex,"type":134217729}`.
    package static func runtimePreimageV2(event: String, payload: [UInt8]) -> [UInt8] {
        // Keys already in JCS (UTF-16 code unit) order; the only values are a string, hex and an integer.
        var out = Array(#"{"name":"#.utf8)
        appendJCSString(event, to: &out)
        out += Array(#","payload":""#.utf8)
        out += Array(HexText.encode(payload).utf8)
        out += Array(#"","type":\#(TDXEvent.dstackRuntimeEventType)}"#.utf8)
        return out
    }

    /// Version-2 runtime digest: `sha384` of ``runtimePreimageV2(event:payload:)``.
    package static func runtimeDigestV2(event: String, payload: [UInt8]) -> [UInt8] {
        Array(SHA384.hash(data: runtimePreimageV2(event: event, payload: payload)))
    }

    /// Appends a JSON string literal escaped as RFC 8785 requires (ECMAScript `JSON.stringify`).
    static func appendJCSString(_ string: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x0a: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0c: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0d: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x00..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0f)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func describe(_ event: TDXEvent) -> String {
        event.event.isEmpty ? "imr \(event.imr), type \(event.eventType)" : "\"\(event.event)\""
    }
}
