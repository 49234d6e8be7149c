import Foundation
import SigningCore
import SigningCrypto

@testable import TEE

/// `dstack-agent`: one guest-agent answer body read as each answer the client decodes (`Version`,
/// `GetKey`, `GetQuote`, `Info`, the error body), through `DstackWireFormat`, with the hex fields
/// decoded as the client does and the `Info` answer turned into the report's `info` object.
///
/// Checks:
/// - Hex fields that decode re-encode to the same digits (lowercase, without `0x`).
/// - The report object is one valid JSON object with the answer's keys; `tcb_info` became an object
///   exactly when it was a non-empty string holding a JSON object; building it again from its own
///   output gives the same bytes.
/// - An answer the `Info` decoder accepts, and that is a JSON object throughout, gives a report object.
enum DstackAgentTarget {
    static let target = FuzzTarget(
        name: "dstack-agent",
        summary: "dstack guest-agent answers: hex fields, Info → report object (valid, stable, keys kept)"
    ) { run($0) }

    static func run(_ input: UnsafeRawBufferPointer) {
        let body = Array(input)

        if let version = try? DstackWireFormat.decode(DstackWireFormat.VersionResponse.self, from: body, method: "Version") {
            _ = version.rev
        }
        if let key = try? DstackWireFormat.decode(DstackWireFormat.GetKeyResponse.self, from: body, method: "GetKey") {
            checkHex(key.key)
            key.signatureChain?.forEach(checkHex)
        }
        if let quote = try? DstackWireFormat.decode(DstackWireFormat.GetQuoteResponse.self, from: body, method: "GetQuote") {
            checkHex(quote.quote)
            quote.reportData.map(checkHex)
        }
        _ = try? DstackWireFormat.decode(DstackWireFormat.ErrorResponse.self, from: body, method: "Error")

        let info = try? DstackWireFormat.decode(DstackWireFormat.InfoResponse.self, from: body, method: "Info")
        if let tcbText = info?.tcbInfo, !tcbText.isEmpty {
            _ = try? JSONDecoder().decode(DstackWireFormat.TCBInfo.self, from: Data(tcbText.utf8))
        }
        let report = try? DstackWireFormat.reportObject(fromInfo: body)
        // JSONDecoder checks only what it decodes (raw control bytes in a string it skips pass), so the
        // report is owed only for answers that are JSON throughout, as JSONSerialization reads them.
        if info != nil, (try? JSONSerialization.jsonObject(with: Data(body))) is [String: Any] {
            Invariant.require(report != nil, "the Info decoder accepts a JSON object answer but the report object cannot be built from it")
        }
        if let report {
            checkReport(report, answer: body)
        }
    }

    /// A hex field the client accepts re-encodes to its own digits.
    private static func checkHex(_ text: String) {
        guard let bytes = try? DstackWireFormat.hex(text, field: "field", method: "fuzz") else { return }
        var digits = text.lowercased()
        if digits.hasPrefix("0x") { digits.removeFirst(2) }
        Invariant.require(Hex.encode(bytes) == digits, "hex \(text.debugDescription) decodes to \(Hex.encode(bytes))")
    }

    private static func checkReport(_ report: [UInt8], answer: [UInt8]) {
        let kind = report.withUnsafeBytes { JSONValidator.validate($0) }
        Invariant.require(kind == .object, "the report object is not a valid JSON object (\(String(describing: kind)))")
        guard let output = try? JSONSerialization.jsonObject(with: Data(report)) as? [String: Any],
            let original = try? JSONSerialization.jsonObject(with: Data(answer)) as? [String: Any]
        else {
            Invariant.fail("the report object or its answer does not read back as a JSON object")
        }
        Invariant.require(Set(output.keys) == Set(original.keys), "the report object has other keys than the answer")
        if let tcbText = original["tcb_info"] as? String {
            let holdsObject =
                !tcbText.isEmpty && (try? JSONSerialization.jsonObject(with: Data(tcbText.utf8))) is [String: Any]
            Invariant.require((output["tcb_info"] is [String: Any]) == holdsObject, "tcb_info parsed: \(output["tcb_info"] is [String: Any]), holds an object: \(holdsObject)")
        }
        guard let again = try? DstackWireFormat.reportObject(fromInfo: report) else {
            Invariant.fail("the report object cannot be built from its own output")
        }
        Invariant.require(again == report, "building the report object from its own output changes it")
    }
}
