import Testing

import SigningCrypto

@Suite("Keccak-256")
struct Keccak256Tests {
    /// Known answers for the original Keccak-256 (0x01 padding); the first three are the Keccak team's
    /// published values, the rest cross-check block boundaries against an independent implementation.
    @Test(arguments: [
        ([UInt8](), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
        (Array("abc".utf8), "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
        ([UInt8](repeating: 0xA3, count: 200), "3a57666b048777f2c953dc4456f45a2588e1cb6f2da760122d530ac2ce607d4a"),
        (
            Array("The quick brown fox jumps over the lazy dog".utf8),
            "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"
        ),
        ([UInt8](repeating: 0xA3, count: 135), "3d28d08c3dacab77392064a939f3e7f8d03f2e02e2c664ac08a05f63ac652626"),
        ([UInt8](repeating: 0xA3, count: 136), "b82d89d96e5575d11a9e1f4cabb2a45e60899e69a19a724cd796bdcf13511018"),
        ([UInt8](repeating: 0xA3, count: 137), "ec8008a74e50bc7d6b22c3ad85402bf10e6d4449f3c8618e36c461b8a44eeafb"),
        (
            Array(repeating: (0...255).map { UInt8($0) }, count: 4).flatMap { $0 },
            "5902e53903be0d0f9656bdbd5b9f0d8c2d815f865645d629eef77f5185f6cd7f"
        ),
    ])
    func knownAnswers(message: [UInt8], expected: String) {
        #expect(Hex.encode(Keccak256.hash(message)) == expected)
    }

    @Test func isNotSHA3() {
        // SHA3-256("") differs only by padding (0x06); a mix-up would give a7ffc6f8…434a.
        #expect(
            Hex.encode(Keccak256.hash([UInt8]()))
                != "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        )
    }

    @Test func everyTwoWaySplitMatchesOneShot() {
        let message = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        let expected = Keccak256.hash(message)
        for split in 0...message.count {
            var hasher = Keccak256Hasher()
            hasher.update(message[..<split])
            hasher.update(message[split...])
            #expect(hasher.finalize() == expected, "split at \(split)")
        }
    }

    @Test func everyChunkSizeMatchesOneShot() {
        let message = (0..<411).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 5) }
        let expected = Keccak256.hash(message)
        for chunk in 1...140 {
            var hasher = Keccak256Hasher()
            var start = 0
            while start < message.count {
                let end = min(start + chunk, message.count)
                message[start..<end].withUnsafeBytes { hasher.update(bufferPointer: $0) }
                start = end
            }
            #expect(hasher.finalize() == expected, "chunk size \(chunk)")
        }
    }

    @Test func nonContiguousSequencesAndEmptyUpdates() {
        let message = (0..<500).map { UInt8(truncatingIfNeeded: $0) }
        var hasher = Keccak256Hasher()
        hasher.update([UInt8]())
        hasher.update((0..<200).lazy.map { UInt8(truncatingIfNeeded: $0) })
        hasher.update(bufferPointer: UnsafeRawBufferPointer(start: nil, count: 0))
        hasher.update(message[200...])
        #expect(hasher.finalize() == Keccak256.hash(message))
    }

    @Test func copyingForksTheState() {
        var first = Keccak256Hasher()
        first.update(Array("ab".utf8))
        var second = first
        first.update(Array("c".utf8))
        second.update(Array("d".utf8))
        #expect(first.finalize() == Keccak256.hash(Array("abc".utf8)))
        #expect(second.finalize() == Keccak256.hash(Array("abd".utf8)))
    }
}
