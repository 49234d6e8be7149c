import Foundation
import SigningContract
import SigningCrypto
import Testing

@testable import TEE

@Suite("report_data and TLS fingerprint")
struct ReportDataTests {
    static let nonce = (0..<32).map { UInt8($0) }
    static let address = "b6a9f297c41c48a978edd2f9ba48c355ae418fa4"

    @Test func plainLayoutVector() throws {
        let data = ReportData.make(signer: try Hex.decode(Self.address), nonce: Self.nonce, tlsFingerprint: nil)
        #expect(Hex.encode(data) == Self.address + String(repeating: "0", count: 24) + Hex.encode(Self.nonce))
    }

    @Test func ed25519SignerFillsTheFirstHalf() throws {
        let key = try Hex.decode("763b714f70ece323e9bc5894a0113e16192938c11af32a9b8043ee0402416b31")
        #expect(ReportData.make(signer: key, nonce: Self.nonce, tlsFingerprint: nil) == key + Self.nonce)
    }

    @Test func tlsBoundLayoutVector() throws {
        let fingerprint = try Hex.decode("7af8c9f9564fbc3c472767a38de21a51830c7047175cf8ec88bc9b7febc0c8a8")
        let data = ReportData.make(signer: try Hex.decode(Self.address), nonce: Self.nonce, tlsFingerprint: fingerprint)
        #expect(Hex.encode(data.prefix(32)) == "be437560b59a3ae9fa043e4e7680b6fae252b3d0fdf0c2ea56d282f2e6a2dbc9")
        #expect(Array(data.suffix(32)) == Self.nonce)
    }

    @Test func quoteReportDataByVersion() throws {
        var v4 = [UInt8](repeating: 0, count: 700)
        v4[0] = 4
        v4.replaceSubrange(568..<632, with: [UInt8](repeating: 0xAA, count: 64))
        #expect(ReportData.fromQuote(v4).map(Array.init) == [UInt8](repeating: 0xAA, count: 64))

        var v5 = [UInt8](repeating: 0, count: 700)
        v5[0] = 5
        v5.replaceSubrange(574..<638, with: [UInt8](repeating: 0xBB, count: 64))
        #expect(ReportData.fromQuote(v5).map(Array.init) == [UInt8](repeating: 0xBB, count: 64))

        var v3 = v4
        v3[0] = 3
        #expect(ReportData.fromQuote(v3) == nil)
        #expect(ReportData.fromQuote(Array(v4.prefix(631))) == nil)
        #expect(ReportData.fromQuote(Array(v5.prefix(637))) == nil)
        #expect(ReportData.fromQuote([4]) == nil)
        #expect(ReportData.fromQuote([]) == nil)
        var big = v4
        big[1] = 1  // version 0x0104
        #expect(ReportData.fromQuote(big) == nil)
    }

    @Test func fixtureQuoteReportData() throws {
        let quote = try AttestationFixtures.getQuote().quote
        let reportData = try #require(ReportData.fromQuote(quote))
        #expect(String(decoding: reportData, as: UTF8.self) == "dip1::secp256k1c-pk:A55pWmteJIJOj8_pI7-pzeDxy1G2q18GDv88HNRdBXkQ")
    }

    @Test func tlsFingerprintOfAppKeysCACert() throws {
        let pem = try AttestationFixtures.appKeysCACert()
        let expected = "7af8c9f9564fbc3c472767a38de21a51830c7047175cf8ec88bc9b7febc0c8a8"
        #expect(Hex.encode(try TLSCertificateFingerprint.sha256OfSPKI(pemEncoded: pem)) == expected)
        // A chain: the first certificate counts; other PEM blocks before it are skipped.
        let key = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
        #expect(Hex.encode(try TLSCertificateFingerprint.sha256OfSPKI(pemEncoded: key + pem + pem)) == expected)
    }

    @Test(arguments: ["", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
    func tlsFingerprintRejectsNonCertificates(pem: String) {
        #expect(throws: (any Error).self) { try TLSCertificateFingerprint.sha256OfSPKI(pemEncoded: pem) }
    }

    @Test func jsonStringsAreEscaped() throws {
        var object = AttestationJSONObject()
        object.string("k\"", "a\"b\\c\n\r\t\u{01}\u{1f}é/")
        let text = object.text
        #expect(text == #"{"k\"":"a\"b\\c\n\r\t\u0001\u001fé/"}"#)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(parsed["k\""] == "a\"b\\c\n\r\t\u{01}\u{1f}é/")
    }
}
