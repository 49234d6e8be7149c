/// The text of one generated answer of `count` tokens (``TokenVocabulary``), already JSON-escaped.
///
/// vLLM's Responses and Messages streams send one delta per detokenized piece that is not empty (the
/// recorded streams carry 4 deltas for 6 tokens), so the empty pieces are left out of ``deltas``.
struct GeneratedText: Sendable {
    let count: Int

    /// The escaped pieces that get a delta event of their own, in order.
    var deltas: [[UInt8]] {
        (0..<self.count).map(TokenVocabulary.escapedToken(at:)).filter { !$0.isEmpty }
    }

    /// The whole escaped text.
    var escaped: [UInt8] {
        var text: [UInt8] = []
        for index in 0..<self.count {
            text += TokenVocabulary.escapedToken(at: index)
        }
        return text
    }
}
