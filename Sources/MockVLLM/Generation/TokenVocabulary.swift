/// The deterministic "tokens" the mock generates, already escaped as JSON string contents.
///
/// The first eight are the detokenized pieces of the recorded vLLM stream (`chat-stream.body`): escaped
/// control characters, empty pieces and raw U+FFFD bytes, the things that break decode-and-re-encode
/// proxies. The rest add multi-byte UTF-8 of every length and escaped quotes and newlines. Token `i` is
/// entry `i % count`, so any run is reproducible.
enum TokenVocabulary {
    /// The escaped pieces, each exactly as it appears between the quotes of a JSON string.
    static let escapedTokens: [[UInt8]] = [
        #"\u0010"#,
        "",
        "\u{FFFD} at",
        "",
        "\u{FFFD} lazy",
        "",
        "\u{FFFD}#",
        #"\u0017"#,
        " that",
        "hel",
        "lo",
        " caf\u{E9}",
        " \u{4E16}\u{754C}",
        " \u{1F600}",
        #"\n"#,
        #" \"quoted\""#,
        " back\\\\slash",
        "\u{FFFD}",
        #"\t"#,
        " fox",
    ].map { Array($0.utf8) }

    /// The escaped piece of token `index` (0-based).
    static func escapedToken(at index: Int) -> [UInt8] {
        Self.escapedTokens[index % Self.escapedTokens.count]
    }
}
