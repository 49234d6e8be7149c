/// Settings of the dstack guest-agent test double.
package struct DstackSimulatorConfiguration: Sendable {
    /// Which recorded quote and event-log format `GetQuote` serves.
    package enum QuoteMode: String, Sendable, CaseIterable {
        /// dstack simulator format: the quote of `attestation.bin` with its unstripped 33-event log.
        case full
        /// dstack 0.6 agent format: the quote of `tdx-lite-getquote.json` with a stripped log.
        case stripped
    }

    /// Unix socket to listen on (an existing file there is replaced).
    package var socketPath: String
    /// Directory holding `appkeys.json`, `app-compose.json`, `attestation.bin`, `tdx-lite-getquote.json`.
    package var fixturesDirectory: String
    package var quoteMode: QuoteMode
    /// `version` answered by `Version`.
    package var version: String

    // MARK: Fault injection

    /// Delay before every answer.
    package var delay: Duration
    /// Methods answered with 400 `{"error":"simulated failure: <Method>"}`.
    package var failingMethods: Set<String>
    /// Methods answered with 404 `Service not found` (e.g. `Version`, to act like an agent before 0.5.7).
    package var missingMethods: Set<String>
    /// Serve quotes whose REPORTDATA (bytes 568..632) differs from the requested report data.
    package var badReportData: Bool
    /// Act like an agent ≤ 0.5.5: ignore `algorithm` and always certify the secp256k1 reading.
    package var ignoresAlgorithm: Bool

    package init(
        socketPath: String,
        fixturesDirectory: String,
        quoteMode: QuoteMode = .full,
        version: String = "0.5.11-simulator",
        delay: Duration = .zero,
        failingMethods: Set<String> = [],
        missingMethods: Set<String> = [],
        badReportData: Bool = false,
        ignoresAlgorithm: Bool = false
    ) {
        self.socketPath = socketPath
        self.fixturesDirectory = fixturesDirectory
        self.quoteMode = quoteMode
        self.version = version
        self.delay = delay
        self.failingMethods = failingMethods
        self.missingMethods = missingMethods
        self.badReportData = badReportData
        self.ignoresAlgorithm = ignoresAlgorithm
    }
}
