/// Standard base64 with padding (RFC 4648 §4), for `encoding_format: "base64"` embeddings.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let remaining = bytes.count - index
            let b0 = UInt32(bytes[index])
            let b1 = remaining > 1 ? UInt32(bytes[index + 1]) : 0
            let b2 = remaining > 2 ? UInt32(bytes[index + 2]) : 0
            let triple = b0 << 16 | b1 << 8 | b2
            output.append(Self.alphabet[Int(triple >> 18 & 0x3F)])
            output.append(Self.alphabet[Int(triple >> 12 & 0x3F)])
            output.append(remaining > 1 ? Self.alphabet[Int(triple >> 6 & 0x3F)] : UInt8(ascii: "="))
            output.append(remaining > 2 ? Self.alphabet[Int(triple & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return output
    }
}
