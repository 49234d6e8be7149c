/// Replacements of byte ranges in one JSON text, applied in one pass; everything between them is kept as it was.
struct JSONSplice {
    private var edits: [(range: Range<Int>, bytes: [UInt8])] = []

    var isEmpty: Bool { self.edits.isEmpty }

    mutating func replace(_ range: Range<Int>, with bytes: [UInt8]) {
        self.edits.append((range, bytes))
    }

    /// `original` with the replacements (ranges must not overlap).
    func apply(to original: [UInt8]) -> [UInt8] {
        if self.edits.isEmpty { return original }
        // Edits are made in document order by every walker; sort only when one was not.
        var edits = self.edits
        if !edits.indices.dropFirst().allSatisfy({ edits[$0 - 1].range.upperBound <= edits[$0].range.lowerBound }) {
            edits.sort { $0.range.lowerBound < $1.range.lowerBound }
        }
        var output: [UInt8] = []
        output.reserveCapacity(original.count + edits.reduce(0) { $0 + $1.bytes.count - $1.range.count })
        var position = 0
        for edit in edits {
            output.append(contentsOf: original[position..<edit.range.lowerBound])
            output.append(contentsOf: edit.bytes)
            position = edit.range.upperBound
        }
        output.append(contentsOf: original[position...])
        return output
    }
}
