import NIOCore

/// Finds a string member of a JSON object, by default the top-level `"id"`, in the same pass that
/// validates the whole text (`JSONValidator.scan`), so one grammar and one depth limit decide both.
///
/// Decisions worth knowing:
/// - The input must be exactly one valid JSON object (RFC 8259, as `JSONValidator` reads it); a
///   truncated or malformed payload yields `nil`. Nested members of the same name and `"id"` inside
///   strings do not count.
/// - Escapes in the id are **decoded**, so the result is the string a client's JSON parser sees; a lone
///   surrogate yields `nil`. Member names are decoded too, so `"\u0069d"` counts as `id`.
/// - A path that occurs more than once is ambiguous (parsers disagree on which one wins) and yields
///   `nil`; so does a value that is not a string, or an empty string (no usable key).
package enum TopLevelIDExtractor {
    /// Deepest container nesting accepted, the top-level object counting as depth 1: the validator's.
    package static let maxDepth = JSONValidator.maxDepth

    /// The path of the top-level `id`, for callers that run `JSONValidator.scan` themselves.
    package static let idPath = [Array("id".utf8)]

    /// The top-level string `id` of the JSON object in `bytes`, or `nil` (see the type's rules).
    package static func stringID(in bytes: UnsafeRawBufferPointer) -> String? {
        string(at: idPath, in: bytes)
    }

    /// The top-level string `id` of the JSON object in the readable bytes of `buffer`.
    package static func stringID(in buffer: ByteBuffer) -> String? {
        buffer.withUnsafeReadableBytes { stringID(in: $0) }
    }

    /// The non-empty string at `path` (object keys from the top level down) of the JSON object in `bytes`.
    package static func string(at path: [[UInt8]], in bytes: UnsafeRawBufferPointer) -> String? {
        guard let scan = JSONValidator.scan(bytes, path: path), scan.topLevel == .object else { return nil }
        return usableString(scan.member, in: bytes)
    }

    /// A scanned member as an id: a string, decoded, and not empty (the type's rules); nil otherwise.
    package static func usableString(_ member: JSONValidator.Member, in bytes: UnsafeRawBufferPointer) -> String? {
        guard case .string(let range) = member,
            let value = JSONStringDecoder.decode(UnsafeRawBufferPointer(rebasing: bytes[range])), !value.isEmpty
        else { return nil }
        return value
    }
}
