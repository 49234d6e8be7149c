import SigningCore

/// A compact JSON object written member by member, in the order given.
///
/// Attestation reports must embed some values verbatim (the agent's quote hex, event log and `Info`
/// object) and keep a stable key order, so they are written as text rather than through an encoder.
struct AttestationJSONObject {
    private var bytes: [UInt8]
    private var isEmpty = true

    init(reservingCapacity capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// Adds `"key": "<escaped value>"`.
    mutating func string(_ key: String, _ value: String) {
        member(key)
        Self.appendQuoted(value, to: &bytes)
    }

    /// Adds `"key": <json>` where `json` is already valid JSON text (an object, array, number, ...).
    mutating func raw(_ key: String, _ json: some Sequence<UInt8>) {
        member(key)
        bytes.append(contentsOf: json)
    }

    /// Adds `"key": true|false`.
    mutating func bool(_ key: String, _ value: Bool) {
        raw(key, (value ? "true" : "false").utf8)
    }

    /// Adds `"key": <integer>`.
    mutating func int(_ key: String, _ value: Int) {
        raw(key, String(value).utf8)
    }

    /// Adds `"key": null`.
    mutating func null(_ key: String) {
        raw(key, "null".utf8)
    }

    /// Adds `"key": ["<escaped>", ...]`.
    mutating func strings(_ key: String, _ values: [String]) {
        member(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            Self.appendQuoted(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// The members written so far, closed as an object.
    var json: [UInt8] {
        bytes + [UInt8(ascii: "}")]
    }

    /// The object text as a Swift string.
    var text: String {
        String(decoding: json, as: UTF8.self)
    }

    private mutating func member(_ key: String) {
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    static func appendQuoted(_ value: String, to output: inout [UInt8]) {
        JSONString.append(value, to: &output)
    }
}
