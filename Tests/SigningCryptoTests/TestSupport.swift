import Foundation
import Testing

import SigningCrypto

/// Test helpers: hex literals and big-endian arithmetic mod n.
enum TestSupport {
    /// The secp256k1 group order n, big-endian.
    static let order = bytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")

    /// Decodes a hex literal written in the test source.
    static func bytes(_ hex: String) -> [UInt8] {
        do {
            return try Hex.decode(hex)
        } catch {
            Issue.record("bad hex literal in test: \(hex)")
            return []
        }
    }

    /// `a - b` for 32-byte big-endian numbers with `a ≥ b`.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 32)
        var borrow = 0
        for index in (0..<32).reversed() {
            var difference = Int(a[index]) - Int(b[index]) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 256 }
            result[index] = UInt8(difference)
        }
        return result
    }

    /// `a + b` for 32-byte big-endian numbers (no overflow expected).
    static func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: 32)
        var carry = 0
        for index in (0..<32).reversed() {
            let sum = Int(a[index]) + Int(b[index]) + carry
            result[index] = UInt8(sum & 0xFF)
            carry = sum >> 8
        }
        return result
    }

    /// The 32-byte big-endian encoding of a small number.
    static func scalar(_ value: UInt8) -> [UInt8] {
        [UInt8](repeating: 0, count: 31) + [value]
    }
}
