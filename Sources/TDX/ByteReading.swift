/// Little-endian integer reads from byte arrays at absolute offsets; callers check bounds first.
extension Array where Element == UInt8 {
    func readLE16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    func readLE32(at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in 0..<4 {
            value |= UInt32(self[offset + index]) << (8 * index)
        }
        return value
    }

    func readLE64(at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 {
            value |= UInt64(self[offset + index]) << (8 * index)
        }
        return value
    }
}
