/// A bounds-checked reader for the SCALE (Parity) encoding used by dstack's legacy attestation blob.
struct SCALEReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func bytes(_ count: Int, _ what: String) throws(TDXError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw .truncated("attestation \(what)", need: offset + count, have: bytes.count)
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func u8(_ what: String) throws(TDXError) -> UInt8 {
        try bytes(1, what)[0]
    }

    mutating func u32(_ what: String) throws(TDXError) -> UInt32 {
        try bytes(4, what).readLE32(at: 0)
    }

    /// A SCALE compact integer (modes 00, 01, 10; big-integer mode 11 up to 4 bytes).
    mutating func compact(_ what: String) throws(TDXError) -> Int {
        let first = try u8(what)
        switch first & 0b11 {
        case 0b00:
            return Int(first >> 2)
        case 0b01:
            let second = try u8(what)
            return Int(UInt16(first) | UInt16(second) << 8) >> 2
        case 0b10:
            let rest = try bytes(3, what)
            let value = UInt32(first) | UInt32(rest[0]) << 8 | UInt32(rest[1]) << 16 | UInt32(rest[2]) << 24
            return Int(value >> 2)
        default:
            let count = Int(first >> 2) + 4
            guard count <= 4 else { throw .unsupported("attestation \(what): compact integer of \(count) bytes") }
            let raw = try bytes(count, what)
            return Int(raw.readLE32(at: 0))
        }
    }

    /// Compact length followed by that many bytes.
    mutating func lengthPrefixed(_ what: String) throws(TDXError) -> [UInt8] {
        let count = try compact("\(what) length")
        return try bytes(count, what)
    }

    /// Compact length followed by UTF-8 text.
    mutating func string(_ what: String) throws(TDXError) -> String {
        let raw = try lengthPrefixed(what)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw .malformed("attestation \(what) is not valid UTF-8")
        }
        return text
    }
}
