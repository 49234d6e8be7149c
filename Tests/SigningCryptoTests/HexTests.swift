import Testing

import SigningCrypto

@Suite("Hex")
struct HexTests {
    @Test func encodesLowercaseWithoutPrefix() {
        #expect(Hex.encode([0x00, 0x0A, 0xFF, 0x7B]) == "000aff7b")
        #expect(Hex.encode([UInt8]()) == "")
        // A sequence with no contiguous storage takes the copying path.
        #expect(Hex.encode((0..<4).lazy.map { UInt8($0 * 0x11) }) == "00112233")
    }

    @Test func roundTripsEveryByte() throws {
        let all = (0...255).map { UInt8($0) }
        let encoded = Hex.encode(all)
        #expect(encoded.count == 512)
        #expect(try Hex.decode(encoded) == all)
        #expect(try Hex.decode(encoded.uppercased()) == all)
    }

    @Test(arguments: [
        ("", [UInt8]()),
        ("0x", []),
        ("0X0a", [0x0A]),
        ("0xDeadBEEF", [0xDE, 0xAD, 0xBE, 0xEF]),
        ("deadbeef", [0xDE, 0xAD, 0xBE, 0xEF]),
    ])
    func decodesWithOptionalPrefix(input: String, expected: [UInt8]) throws {
        #expect(try Hex.decode(input) == expected)
    }

    @Test func decodesSubstrings() throws {
        let text = "sig=0xabcd;"
        let slice = text.dropFirst(4).dropLast()
        #expect(try Hex.decode(slice) == [0xAB, 0xCD])
    }

    @Test(arguments: ["0", "0x1", "abc", "zz", "0xg0", " 00", "00 ", "0x0x00", "x00", "é0", "0-", "1:", "@0", "`0", "G0", "0g"])
    func rejectsMalformed(input: String) {
        #expect(throws: SigningCryptoError.invalidHex) { try Hex.decode(input) }
    }
}
