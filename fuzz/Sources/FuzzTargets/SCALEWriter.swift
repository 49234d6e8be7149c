/// A SCALE encoder for the blob's shapes: bytes, little-endian u32, compact integers in their
/// shortest mode, and compact-length-prefixed byte strings.
struct SCALEWriter {
    var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func uint32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    mutating func compact(_ value: Int) {
        switch value {
        case 0..<(1 << 6):
            bytes.append(UInt8(value << 2))
        case (1 << 6)..<(1 << 14):
            let encoded = UInt16(value << 2 | 0b01)
            bytes += [UInt8(truncatingIfNeeded: encoded), UInt8(encoded >> 8)]
        case (1 << 14)..<(1 << 30):
            uint32(UInt32(value << 2 | 0b10))
        default:
            bytes.append(0b11)  // four bytes follow
            uint32(UInt32(truncatingIfNeeded: value))
        }
    }

    mutating func lengthPrefixed(_ content: [UInt8]) {
        compact(content.count)
        bytes += content
    }
}
