import Testing

@testable import TDX

@Suite("TDX quote parsing")
struct TDXQuoteTests {
    @Test("tdx-lite quote: header, TD fields and auth data")
    func tdxLite() throws {
        let quote = try TDXQuote(bytes: Fixtures.getQuote("tdx-lite-getquote.json").quote)
        #expect(quote.bytes.count == 5006)
        #expect(quote.length == 4936)
        #expect(quote.version == 4)
        #expect(quote.attestationKeyType == 2)
        #expect(quote.teeType == 0x81)
        #expect(quote.qeVendorID == TDXQuote.intelQEVendorID)
        #expect(quote.signedRange == 0..<632)
        #expect(quote.range(of: .reportData) == 568..<632)
        #expect(quote.range(of: .mrConfigID) == 232..<280)
        #expect(quote.range(of: .rtmr(3)) == 520..<568)
        #expect(quote.range(of: .tdAttributes) == 168..<176)
        #expect(quote.value(of: .tdAttributes) == Fixtures.hex("0000001000000000"))
        #expect(quote.tdAttributes == 0x1000_0000)
        #expect(!quote.isDebug)
        #expect(quote.value(of: .xfam) == Fixtures.hex("e702060000000000"))
        #expect(quote.value(of: .teeTCBSVN) == Fixtures.hex("0c010400000000000000000000000000"))
        #expect(quote.mrTD == Fixtures.hex("fd685522ce791dfef67414614eb07d03fc07a32c5a66f36288b329dab92b724b1564c73d436ffb9ea84488c51ac5a1c5"))
        #expect(quote.mrConfigID == Fixtures.hex("0186b0e55f2fa8e4fb69d890f14f54d5612707646e2573d54e0d2ddaaade77caa9") + [UInt8](repeating: 0, count: 15))
        #expect(quote.reportData == Array("dip1::secp256k1c-pk:A55pWmteJIJOj8_pI7-pzeDxy1G2q18GDv88HNRdBXkQ".utf8))
        let auth = quote.authData
        #expect(auth.quoteSignatureRange == 636..<700)
        #expect(auth.attestationKeyRange == 700..<764)
        #expect(auth.qeReportRange == 770..<1154)
        #expect(auth.qeReportSignatureRange == 1154..<1218)
        #expect(auth.qeAuthData.count == 32)
        #expect(auth.pckChainRange == 1258..<4936)
        #expect(auth.qeMRSigner == Fixtures.hex("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5"))
        #expect(auth.qeISVProdID == 2)
        #expect(auth.qeISVSVN == 6)
        let pem = String(decoding: auth.pckChainPEM, as: UTF8.self)
        #expect(pem.components(separatedBy: "-----BEGIN CERTIFICATE-----").count == 4)
    }

    @Test("quote-report quote: MRTD, RTMRs, report data, zero MRCONFIGID")
    func quoteReport() throws {
        let quote = try TDXQuote(bytes: Fixtures.getQuote("quote-report.json").quote)
        #expect(quote.bytes.count == 5006 && quote.length == 4936)
        #expect(quote.mrTD == Fixtures.hex("b24d3b24e9e3c16012376b52362ca09856c4adecb709d5fac33addf1c47e193da075b125b6c364115771390a5461e217"))
        #expect(quote.rtmrs == Expected.quoteReportRTMRs)
        #expect(quote.reportData == [0x12, 0x34] + [UInt8](repeating: 0, count: 62))
        #expect(quote.mrConfigID.allSatisfy { $0 == 0 })
    }

    @Test("a quote synthesised as v5 (TD 1.0) reads the same fields at +6")
    func version5() throws {
        let v4 = try TDXQuote(bytes: Fixtures.getQuote("tdx-lite-getquote.json").quote)
        var bytes = v4.bytes
        bytes[0] = 5
        bytes.insert(contentsOf: [2, 0, 0x48, 0x02, 0, 0], at: 48)  // body type 2, size 584
        let v5 = try TDXQuote(bytes: bytes)
        #expect(v5.version == 5 && v5.bodyType == 2 && v5.bodyOffset == 54)
        #expect(v5.range(of: .tdAttributes) == 174..<182)
        #expect(v5.range(of: .mrTD) == 190..<238)
        #expect(v5.range(of: .rtmr(0)) == 382..<430)
        #expect(v5.range(of: .reportData) == 574..<638)
        #expect(v5.signedRange == 0..<638)
        #expect(v5.rtmrs == v4.rtmrs && v5.mrTD == v4.mrTD && v5.reportData == v4.reportData)
        #expect(v5.authData.quoteSignature == v4.authData.quoteSignature)
        #expect(v5.authData.qeReport == v4.authData.qeReport)
        #expect(v5.authData.pckChainPEM == v4.authData.pckChainPEM)
        #expect(v5.authData.quoteSignatureRange == 642..<706)
    }

    @Test("v5 TD 1.5 body (648 bytes) and rejected body types")
    func version5Bodies() throws {
        let v4 = try TDXQuote(bytes: Fixtures.getQuote("tdx-lite-getquote.json").quote)
        var bytes = Array(v4.bytes[0..<632])
        bytes[0] = 5
        bytes.insert(contentsOf: [3, 0, 0x88, 0x02, 0, 0], at: 48)  // type 3, size 648
        bytes += [UInt8](repeating: 0xaa, count: 64) + Array(v4.bytes[632...])
        let td15 = try TDXQuote(bytes: bytes)
        #expect(td15.bodySize == 648 && td15.signedRange == 0..<702)
        #expect(td15.reportData == v4.reportData)
        var sgx = bytes
        sgx[48] = 1
        #expect(throws: TDXError.self) { try TDXQuote(bytes: sgx) }
        var wrongSize = bytes
        wrongSize[50] = 0x48
        #expect(throws: TDXError.self) { try TDXQuote(bytes: wrongSize) }
    }

    @Test("replacing a field patches only its range")
    func replacing() throws {
        let quote = try TDXQuote(bytes: Fixtures.getQuote("tdx-lite-getquote.json").quote)
        let patched = try quote.replacing(.reportData, with: [UInt8](repeating: 7, count: 64))
        #expect(patched.reportData == [UInt8](repeating: 7, count: 64))
        #expect(patched.bytes[..<568] == quote.bytes[..<568])
        #expect(patched.bytes[632...] == quote.bytes[632...])
        #expect(throws: TDXError.self) { try quote.replacing(.rtmr(3), with: [1, 2, 3]) }
    }

    @Test("short, truncated and malformed quotes throw, never crash")
    func malformed() throws {
        let good = try Fixtures.getQuote("tdx-lite-getquote.json").quote
        for length in [0, 1, 47, 48, 100, 631, 632, 635, 636, 700, 1000, 1219, 1257, 4935] {
            #expect(throws: TDXError.self, "length \(length)") { try TDXQuote(bytes: good.prefix(length)) }
        }
        var badVersion = good
        badVersion[0] = 3
        #expect(throws: TDXError.self) { try TDXQuote(bytes: badVersion) }
        var hugeAuth = good
        hugeAuth[635] = 0xff
        #expect(throws: TDXError.self) { try TDXQuote(bytes: hugeAuth) }
        var badCertType = good
        badCertType[764] = 5
        #expect(throws: TDXError.self) { try TDXQuote(bytes: badCertType) }
        var hugeQEAuth = good
        hugeQEAuth[1219] = 0xff
        #expect(throws: TDXError.self) { try TDXQuote(bytes: hugeQEAuth) }
        var trailingGarbage = good
        trailingGarbage[5000] = 1
        #expect(throws: TDXError.self) { try TDXQuote(bytes: trailingGarbage) }
        #expect(try TDXQuote(bytes: good.prefix(4936)).length == 4936)
    }
}
