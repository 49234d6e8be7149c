/// A chat id as its exact bytes: the key of the signature store (docs/API.md, Signatures).
///
/// Swift `String` equality and hashing follow Unicode canonical equivalence, so two ids that differ only
/// in normalisation (NFC `é` against NFD `e` + U+0301) are equal `String`s. They are different ids on the
/// wire, and a client looks its own up by its own bytes, so a `ChatID` compares and hashes bytes.
///
/// A `String` keeps the UTF-8 bytes it was made from (it never normalises), so `init(_:)` on a string
/// decoded from JSON or from a percent-encoded path gives exactly the id's bytes.
package struct ChatID: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The id's bytes (UTF-8 for ids taken from JSON).
    package let bytes: [UInt8]

    package init(bytes: some Sequence<UInt8>) {
        self.bytes = Array(bytes)
    }

    /// The id whose bytes are `string`'s UTF-8, unchanged.
    package init(_ string: String) {
        self.bytes = Array(string.utf8)
    }

    package init(stringLiteral value: String) {
        self.init(value)
    }

    package init(stringInterpolation: DefaultStringInterpolation) {
        self.init(String(stringInterpolation: stringInterpolation))
    }

    /// Number of bytes.
    package var count: Int { bytes.count }

    /// The id for logs (invalid UTF-8 shown as U+FFFD).
    package var description: String { String(decoding: bytes, as: UTF8.self) }

    package static func == (lhs: ChatID, rhs: ChatID) -> Bool {
        lhs.bytes == rhs.bytes
    }

    package func hash(into hasher: inout Hasher) {
        // The length first keeps ("ab", "c") apart from ("a", "bc") in any composite key.
        hasher.combine(bytes.count)
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
