import SigningContract
import SigningCrypto
import Testing

@Suite("ReportData layouts")
struct ReportDataLayoutTests {
    static let nonce = (0..<32).map { UInt8($0) }
    static let address = "b6a9f297c41c48a978edd2f9ba48c355ae418fa4"

    @Test("plain: signer ‖ zeros ‖ nonce; TLS-bound: sha256(signer ‖ fp) ‖ nonce (same vectors as the proxy's tests)")
    func layouts() throws {
        let signer = try Hex.decode(Self.address)
        let plain = ReportData.make(signer: signer, nonce: Self.nonce, tlsFingerprint: nil)
        #expect(Hex.encode(plain) == Self.address + String(repeating: "0", count: 24) + Hex.encode(Self.nonce))
        let fingerprint = try Hex.decode("7af8c9f9564fbc3c472767a38de21a51830c7047175cf8ec88bc9b7febc0c8a8")
        let bound = ReportData.make(signer: signer, nonce: Self.nonce, tlsFingerprint: fingerprint)
        #expect(Hex.encode(bound.prefix(32)) == "be437560b59a3ae9fa043e4e7680b6fae252b3d0fdf0c2ea56d282f2e6a2dbc9")
        #expect(ReportData.head(signer: signer, tlsFingerprint: fingerprint) == Array(bound.prefix(32)))
        #expect(Array(bound.suffix(32)) == Self.nonce)
        let key = [UInt8](repeating: 7, count: 32)
        #expect(ReportData.make(signer: key, nonce: Self.nonce, tlsFingerprint: nil) == key + Self.nonce)
    }

    @Test("REPORT_DATA sits at 568 in a v4 quote, 574 in v5; nothing for other versions or short quotes")
    func fromQuote() {
        var v4 = [UInt8](repeating: 0, count: 640)
        v4[0] = 4
        v4.replaceSubrange(568..<632, with: [UInt8](repeating: 0xAA, count: 64))
        #expect(ReportData.fromQuote(v4).map(Array.init) == [UInt8](repeating: 0xAA, count: 64))
        var v5 = [UInt8](repeating: 0, count: 640)
        v5[0] = 5
        v5.replaceSubrange(574..<638, with: [UInt8](repeating: 0xBB, count: 64))
        #expect(ReportData.fromQuote(v5).map(Array.init) == [UInt8](repeating: 0xBB, count: 64))
        #expect(ReportData.fromQuote(Array(v4.prefix(631))) == nil)
        #expect(ReportData.fromQuote([3, 0] + v4.dropFirst(2)) == nil)
        #expect(ReportData.fromQuote([]) == nil)
    }
}
