import SigningContract

/// The receipt an answer carries itself (docs/API.md, Inline receipts): the bytes it signs and one
/// signature record per algorithm, each shaped as `GET /v1/signature/{id}` answers, so that an answer
/// verifies from what the client received alone.
///
/// ```swift
/// // Ask with the request header X-Signing-Receipt: inline, then:
/// if let receipt = InlineReceipt.read(body: responseBytes, headers: responseHeaders) {
///     for record in receipt.records {
///         let report = verifier.verifySignature(request: requestBytes, response: receipt.signedResponse, signature: record)
///     }
/// }
/// ```
public struct InlineReceipt: Sendable, Hashable {
    /// The response bytes the receipt signs: the whole body of a non-streamed answer; a stream's bytes
    /// before its receipt lines.
    public var signedResponse: [UInt8]
    /// Signature records (JSON), ecdsa first.
    public var records: [[UInt8]]

    public init(signedResponse: [UInt8], records: [[UInt8]]) {
        self.signedResponse = signedResponse
        self.records = records
    }

    /// The receipt of an answer, from its headers (a non-streamed answer) or its last lines (a stream);
    /// nil when it carries none.
    /// - Parameter headers: the response headers, names in any case.
    public static func read(body: some Collection<UInt8>, headers: [(name: String, value: String)]) -> InlineReceipt? {
        let bytes = Array(body)
        return fromStream(bytes) ?? fromHeaders(headers, body: bytes)
    }

    /// A non-streamed answer's receipt headers, as records.
    public static func fromHeaders(_ headers: [(name: String, value: String)], body: some Collection<UInt8>) -> InlineReceipt? {
        func value(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
        guard let text = value(InlineReceiptFormat.textHeader) else { return nil }
        var records: [[UInt8]] = []
        if let signature = value(InlineReceiptFormat.ecdsaSignatureHeader), let address = value(InlineReceiptFormat.ecdsaAddressHeader) {
            records.append(record(text: text, signature: signature, address: address, algorithm: "ecdsa"))
        }
        if let signature = value(InlineReceiptFormat.ed25519SignatureHeader),
            let key = value(InlineReceiptFormat.ed25519PublicKeyHeader)
        {
            records.append(record(text: text, signature: signature, address: key, algorithm: "ed25519"))
        }
        guard !records.isEmpty else { return nil }
        return InlineReceipt(signedResponse: Array(body), records: records)
    }

    /// A stream's receipt: its last lines, each `: signature ` and a record, then a blank line. The
    /// signed bytes are everything before the first of them, which must follow a blank line (the end
    /// of the last event).
    public static func fromStream(_ body: some Collection<UInt8>) -> InlineReceipt? {
        let bytes = Array(body)
        let prefix = Array(InlineReceiptFormat.streamLinePrefix.utf8)
        // The body ends with "\n\n": the last receipt line's end, then the blank line.
        guard bytes.count >= 2, bytes[bytes.count - 1] == 0x0A, bytes[bytes.count - 2] == 0x0A else { return nil }
        var records: [[UInt8]] = []
        var end = bytes.count - 1  // the blank line's "\n"
        var start = end
        // Walk back over whole lines while they are receipt lines.
        while true {
            let lineEnd = end - 1  // index of the line's "\n"
            guard lineEnd >= 0, bytes[lineEnd] == 0x0A else { break }
            var lineStart = lineEnd
            while lineStart > 0, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
            let line = bytes[lineStart..<lineEnd]
            guard line.starts(with: prefix) else { break }
            records.insert(Array(line.dropFirst(prefix.count)), at: 0)
            start = lineStart
            end = lineStart
            if lineStart == 0 { break }
        }
        // The receipt follows a complete event: the signed bytes end with a blank line.
        guard !records.isEmpty, start >= 2, bytes[start - 1] == 0x0A, bytes[start - 2] == 0x0A || bytes[start - 2] == 0x0D
        else { return nil }
        return InlineReceipt(signedResponse: Array(bytes[..<start]), records: records)
    }

    private static func record(text: String, signature: String, address: String, algorithm: String) -> [UInt8] {
        Array(#"{"text":\#(quoted(text)),"signature":\#(quoted(signature)),"signing_address":\#(quoted(address)),"signing_algo":"\#(algorithm)"}"#.utf8)
    }

    /// A JSON string for a header value (printable ASCII; escapes `"` and `\`).
    private static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20:
                let digits = Array("0123456789abcdef")
                out += "\\u00" + String(digits[Int(scalar.value >> 4)]) + String(digits[Int(scalar.value & 0xF)])
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
