import TDX

/// RTMR replay, image measurements and the RTMR3 event policy.
enum MeasurementVerification {
    /// Runs the measurement checks on an `event_log` field (or a fallback log) of a report or quote file.
    /// - Parameter required: a missing log fails (report) instead of being skipped (bare quote).
    /// - Returns: the authenticated RTMR3 events, or nil with the reason they are unavailable.
    static func run(
        quote: TDXQuote, eventLog: EventLogField?, fallback: [TDXEvent]?, required: Bool, options: VerificationOptions,
        into checks: inout CheckList
    ) -> (events: [TDXEvent]?, unavailable: String) {
        let events: [TDXEvent]
        switch (eventLog, fallback) {
        case (.events(let log)?, _), (nil, let log?):
            events = log
        case (.invalid(let reason)?, _):
            unavailable(reason, required: true, quote: quote, options: options, into: &checks)
            return (nil, reason)
        case (nil, nil):
            let reason = required ? "the report has no event_log" : "no event_log given with the quote"
            unavailable(reason, required: required, quote: quote, options: options, into: &checks)
            return (nil, reason)
        }
        let authenticated = run(quote: quote, events: events, options: options, into: &checks)
        return (authenticated, "the event log does not replay to the quote's RTMR3")
    }

    private static func unavailable(
        _ reason: String, required: Bool, quote: TDXQuote, options: VerificationOptions, into checks: inout CheckList
    ) {
        if required {
            checks.fail("measurements.rtmr-replay", reason)
        } else {
            checks.skip("measurements.rtmr-replay", reason, mandatory: false)
        }
        checkImage(quote: quote, options: options, into: &checks)
        if required {
            checks.fail("measurements.runtime-events", "RTMR3 events are not authenticated: \(reason)")
        } else {
            checks.skip("measurements.runtime-events", reason, mandatory: false)
        }
    }

    /// Replays `events` against the quote's RTMRs.
    /// - Returns: the runtime (RTMR3) events when RTMR3 replays to the quote's value, i.e. when they
    ///   are authenticated; nil otherwise.
    static func run(
        quote: TDXQuote, events: [TDXEvent], options: VerificationOptions, into checks: inout CheckList
    ) -> [TDXEvent]? {
        var authenticated: [TDXEvent]?
        do {
            let replayed = try RTMRReplay.replay(events)
            let quoted = quote.rtmrs
            let mismatched = (0..<4).filter { replayed[$0] != quoted[$0] }
            let counts = (0..<4).map { index in events.filter { $0.imr == index }.count }
            if mismatched.isEmpty {
                checks.pass(
                    "measurements.rtmr-replay",
                    "the \(events.count) events (\(counts.map(String.init).joined(separator: "/")) per RTMR) replay to RTMR0–3 of the quote")
            } else {
                let lines = mismatched.map {
                    "RTMR\($0): replay \(HexFormatting.short(replayed[$0])) ≠ quote \(HexFormatting.short(quoted[$0]))"
                }
                checks.fail(
                    "measurements.rtmr-replay",
                    lines.joined(separator: "; ") + " (events altered, reordered, missing or added)")
            }
            if !mismatched.contains(3) {
                authenticated = events.filter { $0.imr == 3 }
            }
        } catch {
            checks.fail("measurements.rtmr-replay", "event log cannot be replayed: \(error.description)")
        }
        checkImage(quote: quote, options: options, into: &checks)
        if let authenticated {
            RuntimeEventPolicy.check(authenticated, into: &checks)
        } else {
            checks.fail("measurements.runtime-events", "RTMR3 events are not authenticated by the quote, so none can be trusted")
        }
        return authenticated
    }

    /// MRTD and RTMR0–2 against the expected image values.
    static func checkImage(quote: TDXQuote, options: VerificationOptions, into checks: inout CheckList) {
        let id = "measurements.image"
        guard let expected = options.expectedMeasurements else {
            checks.skip(
                id,
                "no expected MRTD/RTMR0–2 given (compute them with dstack-mr for the image); quote has MRTD "
                    + "\(HexFormatting.short(quote.mrTD))",
                mandatory: false)
            return
        }
        let pairs: [(String, String?, [UInt8])] = [
            ("MRTD", expected.mrTD, quote.mrTD),
            ("RTMR0", expected.rtmr0, quote.rtmrs[0]),
            ("RTMR1", expected.rtmr1, quote.rtmrs[1]),
            ("RTMR2", expected.rtmr2, quote.rtmrs[2]),
        ]
        var compared: [String] = []
        var problems: [String] = []
        for (name, text, actual) in pairs {
            guard let text else { continue }
            guard let value = HexFormatting.decode(text), value.count == 48 else {
                problems.append("expected \(name) is not 48 bytes of hex")
                continue
            }
            if value == actual {
                compared.append(name)
            } else {
                problems.append("\(name) is \(HexFormatting.short(actual)), expected \(HexFormatting.short(value))")
            }
        }
        if !problems.isEmpty {
            checks.fail(id, problems.joined(separator: "; "))
        } else if compared.isEmpty {
            checks.skip(id, "expected measurements were given without any value", mandatory: false)
        } else {
            checks.pass(id, compared.joined(separator: ", ") + " equal the expected image values")
        }
    }
}
