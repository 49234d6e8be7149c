import TDX

/// Checks that need only a quote (and optionally its event log): `signing-proxy verify quote`.
enum QuoteVerification {
    static func run(
        _ input: some Collection<UInt8>, options: VerificationOptions, anchor: TrustAnchor = .intelSGXRootCA,
        into checks: inout CheckList
    ) {
        let parsed: QuoteInput
        switch QuoteInput.parse(Array(input)) {
        case .failure(let failure):
            checks.fail("quote.parse", failure.description)
            return
        case .success(let value):
            parsed = value
        }
        let quote: TDXQuote
        do {
            quote = try TDXQuote(bytes: parsed.quote)
        } catch {
            checks.fail("quote.parse", error.description)
            return
        }
        checks.pass("quote.parse", "TDX quote v\(quote.version), \(quote.length) bytes (+\(quote.bytes.count - quote.length) zero padding)")
        DCAPVerification.run(quote: quote, anchor: anchor, options: options, into: &checks)
        checkDebug(quote, into: &checks)

        let (runtimeEvents, unavailable) = MeasurementVerification.run(
            quote: quote, eventLog: parsed.eventLog, fallback: nil, required: false, options: options, into: &checks)
        ComposeVerification.run(
            .init(
                quote: quote, runtimeEvents: runtimeEvents, eventsUnavailable: unavailable, appCompose: nil, infoAppID: nil,
                requireCompose: false),
            options: options, into: &checks)
    }

    /// TD_ATTRIBUTES bit 0 (DEBUG) must be clear.
    static func checkDebug(_ quote: TDXQuote, into checks: inout CheckList) {
        let attributes = HexFormatting.full(quote.value(of: .tdAttributes))
        checks.expect(
            !quote.isDebug, "quote.debug",
            pass: "TD_ATTRIBUTES \(attributes): DEBUG bit clear",
            fail: "TD_ATTRIBUTES \(attributes): DEBUG bit set, the host can read the TD's memory")
    }
}
