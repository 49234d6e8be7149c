import Foundation
import SigningCore

@testable import SigningProxyVerifier

/// `collateral-json`: Intel PCS JSON documents (TCB info, QE identity) through the verifier's reader,
/// and Intel's TCB status algorithm over what they decode to.
///
/// Input: 34 control bytes describing the platform (TEE_TCB_SVN, the 16 CPUSVN components, PCESVN,
/// the QE's ISVSVN), then the document. A document may carry both `tcbInfo` and `enclaveIdentity`; when
/// both decode, the TCB status is evaluated for the platform. Signatures are not checked here (a
/// mutated document never verifies), so the evaluation sees what a signed document could say.
///
/// Checks:
/// - A document that parses has a 64-byte signature, and its signed bytes are exactly the member's
///   raw value in the input; for input without `\u` escapes (which could spell the member's name
///   differently), that raw value reads as the same JSON value Foundation finds under the member.
/// - Evaluation gives a status or a reason, never both or neither; each selected level is described;
///   advisory ids are not repeated.
enum CollateralDocumentTarget {
    static let target = FuzzTarget(
        name: "collateral-json",
        summary: "PCS TCB info / QE identity: signed bytes exact, raw member = Foundation's, TCB evaluation sound"
    ) { run($0) }

    static let platformByteCount = 34

    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= platformByteCount else { return }
        let control = Array(input[..<platformByteCount])
        let document = Array(input[platformByteCount...])

        let tcbInfo = parse(TCBInfo.self, document, member: "tcbInfo")
        let qeIdentity = parse(EnclaveIdentity.self, document, member: "enclaveIdentity")
        for date in [tcbInfo?.issueDate, tcbInfo?.nextUpdate, qeIdentity?.issueDate, qeIdentity?.nextUpdate] {
            _ = date.flatMap(PCSTime.parse)
        }
        guard let tcbInfo, let qeIdentity else { return }

        let platform = TCBEvaluation.Platform(
            pck: PCKExtension(
                fmspc: [UInt8](repeating: 0, count: 6), pceID: [0, 0],
                cpuSVNComponents: control[16..<32].map(Int.init), pceSVN: Int(control[32])),
            teeTCBSVN: Array(control[0..<16]),
            qeISVSVN: Int(control[33]))
        let outcome = TCBEvaluation.evaluate(platform, tcbInfo: tcbInfo, qeIdentity: qeIdentity)
        Invariant.require((outcome.status == nil) != (outcome.problem == nil), "status \(String(describing: outcome.status)) with problem \(String(describing: outcome.problem))")
        Invariant.require(Set(outcome.advisoryIDs).count == outcome.advisoryIDs.count, "advisory ids repeated: \(outcome.advisoryIDs)")
        if outcome.status != nil {
            let expectedLevels = control[1] != 0 ? 3 : 2
            Invariant.require(outcome.levels.count == expectedLevels, "\(outcome.levels.count) levels described, expected \(expectedLevels)")
        }
    }

    /// The decoded member, after checking what the parser kept of the input.
    private static func parse<Value: Decodable>(_ type: Value.Type, _ document: [UInt8], member: String) -> Value? {
        let range = RawJSON.memberValueRange(member, in: document)
        if let range {
            compareWithFoundation(document, member: member, raw: Array(document[range]))
        }
        guard case .success(let parsed) = SignedCollateralDocument<Value>.parse(document, member: member, what: member) else {
            return nil
        }
        Invariant.require(parsed.signature.count == 64, "signature of \(parsed.signature.count) bytes")
        guard let range else { Invariant.fail("parsed without a raw \(member) member") }
        Invariant.require(parsed.signedBytes == Array(document[range]), "signed bytes are not the raw \(member) value")
        return parsed.value
    }

    /// The raw member value against Foundation's reading of the whole document.
    private static func compareWithFoundation(_ document: [UInt8], member: String, raw: [UInt8]) {
        let hasUnicodeEscape = zip(document, document.dropFirst()).contains { $0 == UInt8(ascii: "\\") && $1 == UInt8(ascii: "u") }
        guard !hasUnicodeEscape,
            document.withUnsafeBytes({ JSONValidator.validate($0) }) == .object,
            let object = try? JSONSerialization.jsonObject(with: Data(document)) as? [String: Any],
            let expected = object[member]
        else { return }
        guard let value = try? JSONSerialization.jsonObject(with: Data(raw), options: .fragmentsAllowed) else {
            Invariant.fail("the raw \(member) value is not JSON although the document is")
        }
        Invariant.require(canonical(value) == canonical(expected), "the raw \(member) value differs from Foundation's")
    }

    private static func canonical(_ value: Any) -> Data? {
        try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])
    }
}
