import Foundation
import NIOCore
import SigningCore

/// `json`: `JSONValidator` and `TopLevelIDExtractor` on the same bytes.
///
/// Checks, beyond not crashing (AddressSanitizer catches a read past the input, which the validator's
/// 8-byte loads could make):
/// - Whitespace around the text changes neither verdict nor id; the padding also moves where the
///   validator's 8-byte string loop hands over to its byte loop.
/// - The `ByteBuffer` overloads see only the readable bytes (the same text between other bytes).
/// - The top-level kind matches the first byte; a valid text cut before its last byte is invalid unless
///   it is a number; a valid text wrapped in `[ ]` stays valid exactly while it fits the depth limit.
/// - An id implies a valid JSON object (for UTF-8 input: the extractor does not check UTF-8 outside the id).
/// - Against Foundation's `JSONSerialization`: the same verdict, except where one of the validator's
///   documented differences (JSONValidatorTests, "Against Foundation") explains it; and an extracted
///   id is the one Foundation reads, byte for byte.
enum JSONTarget {
    static let target = FuzzTarget(
        name: "json",
        summary: "JSONValidator and TopLevelIDExtractor: padding, slices, prefixes, nesting, each other, Foundation"
    ) { run($0) }

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        let verdict = JSONValidator.validate(input)
        let id = TopLevelIDExtractor.stringID(in: input).map { Array($0.utf8) }

        // Whitespace padding, 1 to 9 bytes each side, chosen by the input.
        let whitespace: [UInt8] = [0x20, 0x0A, 0x0D, 0x09]
        let padding = 1 + bytes.count % 9
        let leading = (0..<padding).map { whitespace[($0 + bytes.count) % 4] }
        let trailing = (0..<(10 - padding)).map { whitespace[$0 % 4] }
        let padded = leading + bytes + trailing
        padded.withUnsafeBytes { padded in
            let paddedVerdict = JSONValidator.validate(padded)
            Invariant.require(paddedVerdict == verdict, "whitespace around changed the verdict: \(String(describing: verdict)) → \(String(describing: paddedVerdict))")
            let paddedID = TopLevelIDExtractor.stringID(in: padded).map { Array($0.utf8) }
            Invariant.require(paddedID == id, "whitespace around changed the id")
        }

        // Readable bytes only: the text between bytes that would change either answer.
        var buffer = ByteBuffer()
        buffer.writeString("{\"id\":\"x\",\"a\":")
        let start = buffer.writerIndex
        buffer.writeBytes(bytes)
        buffer.writeString("]}\"")
        if let slice = buffer.getSlice(at: start, length: bytes.count) {
            Invariant.require(JSONValidator.validate(slice) == verdict, "ByteBuffer slice changed the verdict")
            Invariant.require(TopLevelIDExtractor.stringID(in: slice).map { Array($0.utf8) } == id, "ByteBuffer slice changed the id")
        }

        if let verdict {
            checkValid(bytes, verdict: verdict)
        }

        if let id {
            if String(validating: bytes, as: UTF8.self) != nil {
                Invariant.require(verdict == .object, "an id was extracted from text the validator calls \(String(describing: verdict))")
            }
            Invariant.require(!id.isEmpty, "an empty id was extracted")
        }

        compareWithFoundation(bytes, verdict: verdict, id: id)
    }

    /// Properties every valid text has.
    private static func checkValid(_ bytes: [UInt8], verdict: JSONValidator.TopLevel) {
        guard let first = bytes.firstIndex(where: { !JSONTokens.isWhitespace($0) }),
            let last = bytes.lastIndex(where: { !JSONTokens.isWhitespace($0) })
        else {
            Invariant.fail("whitespace alone was called valid")
        }
        let expectedKind: JSONValidator.TopLevel =
            switch bytes[first] {
            case UInt8(ascii: "{"): .object
            case UInt8(ascii: "["): .array
            default: .scalar
            }
        Invariant.require(verdict == expectedKind, "kind \(verdict) for a text starting with \(bytes[first])")

        // Cut before the last byte: only a number can still be complete.
        let isNumber = bytes[first] == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[first])
        if !isNumber {
            let cut = bytes[..<last].withUnsafeBytes { JSONValidator.validate($0) }
            Invariant.require(cut == nil, "a valid text without its last byte is still valid (\(String(describing: cut)))")
        }

        // One more level of nesting is valid exactly while it fits.
        let depth = JSONTokens.maxDepth(bytes)
        let wrapped = ([UInt8(ascii: "[")] + bytes + [UInt8(ascii: "]")]).withUnsafeBytes { JSONValidator.validate($0) }
        let fits = depth + 1 <= JSONValidator.maxDepth
        Invariant.require(wrapped == (fits ? .array : nil), "wrapped at depth \(depth + 1): \(String(describing: wrapped))")
    }

    /// Foundation's verdict and id, where the two parsers are meant to agree.
    private static func compareWithFoundation(_ bytes: [UInt8], verdict: JSONValidator.TopLevel?, id: [UInt8]?) {
        let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed)
        let foundationKind: JSONValidator.TopLevel? =
            switch parsed {
            case nil: nil
            case is [String: Any]: .object
            case is [Any]: .array
            default: .scalar
            }
        if verdict != foundationKind {
            // The documented differences, each checked independently of the validator.
            let explained: Bool
            if verdict == nil {
                explained = JSONTokens.hasTrailingComma(bytes) || JSONTokens.looksLikeAnotherEncoding(bytes)
            } else if foundationKind == nil {
                explained = JSONTokens.hasUnpairedSurrogateEscape(bytes) || JSONTokens.hasNumberOutsideDoubleRange(bytes)
            } else {
                explained = false
            }
            Invariant.require(
                explained,
                "validator says \(String(describing: verdict)), JSONSerialization says \(String(describing: foundationKind)), no documented difference explains it"
            )
        }
        if let id, let object = parsed as? [String: Any], verdict == .object {
            let theirs = (object["id"] as? String).map { Array($0.utf8) }
            Invariant.require(theirs == id, "extracted id differs from JSONSerialization's")
        }
    }
}
