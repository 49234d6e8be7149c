/// Splits concatenated DER elements by their outer lengths; what does not frame as DER stays one piece.
enum DERPieces {
    static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard let length = elementLength(bytes, at: offset), length <= bytes.count - offset else {
                pieces.append(Array(bytes[offset...]))
                break
            }
            pieces.append(Array(bytes[offset..<(offset + length)]))
            offset += length
        }
        return pieces
    }

    /// Header plus content length of the element at `offset` (definite lengths of up to 3 bytes).
    private static func elementLength(_ bytes: [UInt8], at offset: Int) -> Int? {
        guard bytes.count - offset >= 2 else { return nil }
        let first = Int(bytes[offset + 1])
        if first < 0x80 { return 2 + first }
        let count = first & 0x7F
        guard (1...3).contains(count), bytes.count - offset >= 2 + count else { return nil }
        var length = 0
        for index in 0..<count { length = length << 8 | Int(bytes[offset + 2 + index]) }
        return 2 + count + length
    }
}
