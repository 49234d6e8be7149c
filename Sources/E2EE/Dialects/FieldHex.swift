import SigningCrypto

/// Hex as the dialects put it in JSON fields and headers.
enum FieldHex {
    /// Digits of either case; a `0x` prefix only where the dialect allows one (ACI). `nil` when not hex.
    static func decode(_ text: String, allowPrefix: Bool) -> [UInt8]? {
        if !allowPrefix, text.utf8.count >= 2, text.utf8.first == UInt8(ascii: "0"),
            text.utf8.dropFirst().first.map({ $0 | 0x20 }) == UInt8(ascii: "x")
        {
            return nil
        }
        return try? Hex.decode(text)
    }

    /// Lowercase, no prefix (what every dialect sends).
    static func encode(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }
}
