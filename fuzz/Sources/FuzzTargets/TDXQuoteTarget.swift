import TDX

/// `tdx-quote`: `TDXQuote(bytes:)`, the DCAP quote parser (header, TD report body, authentication data).
///
/// Checks on every quote it accepts:
/// - Version 4 or 5; the meaningful length lies within the input and only zero bytes follow it; the
///   body has one of the two TD report sizes at its version's offset.
/// - The authentication data's fields have their fixed sizes, lie in order without overlap between the
///   size field and the end, and read back the bytes at their ranges.
/// - Every accessor reads inside the quote; the same quote without its padding, or with more zero
///   padding, parses to the same fields; replacing REPORTDATA changes that field and nothing else.
enum TDXQuoteTarget {
    static let target = FuzzTarget(
        name: "tdx-quote",
        summary: "TDXQuote: field ranges inside the input, padding-independent, REPORTDATA patching"
    ) { run($0) }

    static func run(_ input: UnsafeRawBufferPointer) {
        let bytes = Array(input)
        guard let quote = try? TDXQuote(bytes: bytes) else { return }
        check(quote, bytes: bytes)

        let trimmed = Array(bytes[..<quote.length])
        guard let unpadded = try? TDXQuote(bytes: trimmed) else { Invariant.fail("the quote without its padding does not parse") }
        Invariant.require(sameFields(unpadded, quote), "the quote without its padding parses differently")
        guard let repadded = try? TDXQuote(bytes: trimmed + [UInt8](repeating: 0, count: 1 + bytes.count % 13)) else {
            Invariant.fail("the quote with more padding does not parse")
        }
        Invariant.require(sameFields(repadded, quote), "the quote with more padding parses differently")

        let newReportData = quote.reportData.map { ~$0 }
        guard let patched = try? quote.replacing(.reportData, with: newReportData) else {
            Invariant.fail("replacing REPORTDATA with 64 bytes failed")
        }
        Invariant.require(patched.reportData == newReportData, "patched REPORTDATA reads back differently")
        Invariant.require(patched.authData == quote.authData && patched.length == quote.length, "patching REPORTDATA changed the authentication data")
        let range = quote.range(of: .reportData)
        Invariant.require(
            Array(patched.bytes[..<range.lowerBound]) == Array(bytes[..<range.lowerBound])
                && Array(patched.bytes[range.upperBound...]) == Array(bytes[range.upperBound...]),
            "patching REPORTDATA changed other bytes")
        if (try? quote.replacing(.reportData, with: newReportData.dropLast())) != nil {
            Invariant.fail("a 63-byte REPORTDATA was accepted")
        }
    }

    private static func check(_ quote: TDXQuote, bytes: [UInt8]) {
        Invariant.require(quote.bytes == bytes, "the quote does not keep its input")
        Invariant.require(quote.version == 4 || quote.version == 5, "version \(quote.version)")
        Invariant.require(quote.length <= bytes.count, "length \(quote.length) beyond \(bytes.count) bytes")
        Invariant.require(bytes[quote.length...].allSatisfy { $0 == 0 }, "non-zero bytes after the quote were accepted")
        switch (quote.version, quote.bodyType, quote.bodyOffset, quote.bodySize) {
        case (4, nil, 48, 584), (5, 2, 54, 584), (5, 3, 54, 648): break
        default: Invariant.fail("version \(quote.version) body type \(String(describing: quote.bodyType)) at \(quote.bodyOffset), \(quote.bodySize) bytes")
        }
        Invariant.require(quote.signedRange == 0..<(quote.bodyOffset + quote.bodySize), "signed range \(quote.signedRange)")

        let auth = quote.authData
        let authStart = quote.bodyOffset + quote.bodySize + 4
        let fields: [(String, Range<Int>, [UInt8], Int?)] = [
            ("signature", auth.quoteSignatureRange, auth.quoteSignature, 64),
            ("attestation key", auth.attestationKeyRange, auth.attestationKey, 64),
            ("QE report", auth.qeReportRange, auth.qeReport, 384),
            ("QE report signature", auth.qeReportSignatureRange, auth.qeReportSignature, 64),
            ("PCK chain", auth.pckChainRange, auth.pckChainPEM, nil),
        ]
        var previousEnd = authStart
        for (name, range, value, size) in fields {
            Invariant.require(range.lowerBound >= previousEnd && range.upperBound <= quote.length, "\(name) at \(range), outside \(previousEnd)..<\(quote.length)")
            Invariant.require(size.map { range.count == $0 } ?? true, "\(name) has \(range.count) bytes")
            Invariant.require(Array(bytes[range]) == value, "\(name) does not read back its range")
            previousEnd = range.upperBound
        }
        Invariant.require(auth.qeAuthData.count <= auth.pckChainRange.lowerBound - auth.qeReportSignatureRange.upperBound, "QE auth data overlaps")

        // Every accessor, for the sanitizer's sake: each reads inside the quote or traps.
        _ = quote.tdAttributes
        _ = quote.isDebug
        Invariant.require(quote.mrTD.count == 48 && quote.mrConfigID.count == 48, "MRTD or MRCONFIGID is not 48 bytes")
        Invariant.require(quote.rtmrs.count == 4 && quote.rtmrs.allSatisfy { $0.count == 48 }, "RTMRs are not 4 × 48 bytes")
        Invariant.require(quote.reportData.count == 64, "REPORTDATA is not 64 bytes")
        let fieldsOfReport: [TDXQuote.Field] = [
            .teeTCBSVN, .mrSeam, .mrSignerSeam, .seamAttributes, .tdAttributes, .xfam, .mrTD, .mrConfigID, .mrOwner,
            .mrOwnerConfig, .rtmr(0), .rtmr(1), .rtmr(2), .rtmr(3), .reportData,
        ]
        for field in fieldsOfReport {
            Invariant.require(quote.range(of: field).upperBound <= quote.signedRange.upperBound, "\(field) outside the signed body")
        }
        Invariant.require(auth.qeReportData.count == 64 && auth.qeMRSigner.count == 32, "QE report fields have the wrong sizes")
        _ = auth.qeISVProdID
        _ = auth.qeISVSVN
    }

    private static func sameFields(_ lhs: TDXQuote, _ rhs: TDXQuote) -> Bool {
        lhs.length == rhs.length && lhs.version == rhs.version && lhs.bodyType == rhs.bodyType && lhs.authData == rhs.authData
            && lhs.signedBytes == rhs.signedBytes && lhs.qeVendorID == rhs.qeVendorID && lhs.teeType == rhs.teeType
            && lhs.attestationKeyType == rhs.attestationKeyType
    }
}
