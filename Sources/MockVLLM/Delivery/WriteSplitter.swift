import NIOCore

/// Cuts one body piece into the awkward fragments `splitWrites` sends as separate writes.
///
/// The cuts land inside the `data: ` prefix, in the middle of the JSON, inside the first multi-byte UTF-8
/// sequence (when there is one), and before and between the two final newlines: every place a careless SSE
/// scanner breaks. Fragments are slices of the piece, so nothing is copied.
enum WriteSplitter {
    /// The fragments of `piece`, in order; their concatenation is `piece`.
    static func fragments(of piece: ByteBuffer) -> [ByteBuffer] {
        let length = piece.readableBytes
        guard length > 1 else { return [piece] }
        var cuts: Set<Int> = [3, length / 2, length - 2, length - 1]
        if let leadByte = piece.readableBytesView.firstIndex(where: { $0 >= 0xC0 }) {
            cuts.insert(leadByte - piece.readerIndex + 1)
        }
        var fragments: [ByteBuffer] = []
        var start = 0
        for end in cuts.filter({ $0 > 0 && $0 < length }).sorted() + [length] {
            if let slice = piece.getSlice(at: piece.readerIndex + start, length: end - start) {
                fragments.append(slice)
            }
            start = end
        }
        return fragments
    }
}
