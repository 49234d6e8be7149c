import SigningCrypto

/// Hex helpers for check details and lenient input decoding.
enum HexFormatting {
    /// Full lowercase hex.
    static func full(_ bytes: some Sequence<UInt8>) -> String {
        Hex.encode(bytes)
    }

    /// First and last few bytes (`86b0e55f…77caa9`), enough to tell values apart in a detail line.
    static func short(_ bytes: some Collection<UInt8>) -> String {
        let all = Array(bytes)
        guard all.count > 12 else { return Hex.encode(all) }
        return Hex.encode(all.prefix(6)) + "…" + Hex.encode(all.suffix(4))
    }

    /// Decodes hex (optional `0x`), or nil.
    static func decode(_ text: String?) -> [UInt8]? {
        guard let text else { return nil }
        return try? Hex.decode(text.trimmingASCIIWhitespace())
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks.
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
