/// Locates values inside JSON text without re-serializing them, for signatures over exact bytes.
///
/// Intel signs the bytes of the `tcbInfo` / `enclaveIdentity` value exactly as PCS sent them; parsing
/// and printing the object again could reorder keys or change number and string spellings.
enum RawJSON {
    /// The byte range of the value of the top-level member `key` of the JSON object `bytes`.
    ///
    /// Returns nil when `bytes` is not one object, when `key` is missing or appears more than once,
    /// or when the text around it is malformed. Keys are compared as raw bytes (no unescaping).
    static func memberValueRange(_ key: String, in bytes: [UInt8]) -> Range<Int>? {
        var scanner = Scanner(bytes: bytes)
        let wanted = Array(key.utf8)
        var found: Range<Int>?
        scanner.skipWhitespace()
        guard scanner.consume(UInt8(ascii: "{")) else { return nil }
        scanner.skipWhitespace()
        if scanner.consume(UInt8(ascii: "}")) {
            return nil
        }
        while true {
            guard let keyRange = scanner.scanString() else { return nil }
            scanner.skipWhitespace()
            guard scanner.consume(UInt8(ascii: ":")) else { return nil }
            scanner.skipWhitespace()
            guard let valueRange = scanner.scanValue() else { return nil }
            if Array(bytes[(keyRange.lowerBound + 1)..<(keyRange.upperBound - 1)]) == wanted {
                guard found == nil else { return nil }
                found = valueRange
            }
            scanner.skipWhitespace()
            if scanner.consume(UInt8(ascii: ",")) {
                scanner.skipWhitespace()
                continue
            }
            guard scanner.consume(UInt8(ascii: "}")) else { return nil }
            break
        }
        scanner.skipWhitespace()
        return scanner.atEnd ? found : nil
    }

    /// A cursor over JSON bytes that measures values without building them.
    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var atEnd: Bool { index >= bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// A string including its quotes; escapes are skipped, not interpreted.
        mutating func scanString() -> Range<Int>? {
            let start = index
            guard consume(UInt8(ascii: "\"")) else { return nil }
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\\"):
                    index += 2
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<index
                case 0x00..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }

        /// Any value: string, object or array (nesting counted outside strings), or a bare literal.
        mutating func scanValue() -> Range<Int>? {
            let start = index
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return scanString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        guard scanString() != nil else { return nil }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return start..<index
                        }
                    default:
                        break
                    }
                    index += 1
                }
                return nil
            default:
                let terminators: [UInt8] = [0x2c, 0x7d, 0x5d, 0x20, 0x09, 0x0a, 0x0d]
                while index < bytes.count, !terminators.contains(bytes[index]) { index += 1 }
                return index > start ? start..<index : nil
            }
        }
    }
}
