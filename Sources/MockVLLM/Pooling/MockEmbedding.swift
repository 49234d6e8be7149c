/// Deterministic unit vectors standing in for a pooling model's embeddings.
///
/// The vector of a text depends only on its bytes, so `/pooling` and `/v1/embeddings` agree on the same
/// input (as the captures do), and `/score` and `/rerank` are the cosine of two such vectors. Values are
/// `Float`s, printed as Python prints them after widening (`-0.07524053007364273`), like vLLM's.
enum MockEmbedding {
    /// Size of every vector (the captured pooling model's hidden size).
    static let dimensions = 128

    /// The unit vector of `bytes`.
    static func vector(for bytes: some Sequence<UInt8>) -> [Float] {
        // FNV-1a seeds an xorshift64* generator.
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            state ^= UInt64(byte)
            state &*= 0x0000_0100_0000_01b3
        }
        if state == 0 { state = 1 }
        var values = [Float](repeating: 0, count: Self.dimensions)
        var norm: Float = 0
        for index in 0..<Self.dimensions {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            let random = (state &* 0x2545_F491_4F6C_DD1D) >> 40  // 24 bits
            let value = Float(random) / Float(1 << 23) - 1
            values[index] = value
            norm += value * value
        }
        let scale = 1 / norm.squareRoot()
        return values.map { $0 * scale }
    }

    /// Cosine similarity of two unit vectors.
    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// `[v0,v1,…]` with Python's float spelling.
    static func jsonArray(_ vector: [Float]) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "[")]
        output.reserveCapacity(vector.count * 22)
        for (index, value) in vector.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONText.appendFloat(Double(value), to: &output)
        }
        output.append(UInt8(ascii: "]"))
        return output
    }

    /// The vector's little-endian `float32` bytes in base64, vLLM's `encoding_format: "base64"`.
    static func base64(_ vector: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern
            bytes += [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                      UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)]
        }
        return Base64.encode(bytes)
    }
}
