import ArgumentParser
import DstackSimulator
import Hummingbird
import Logging

/// `dstack-simulator`: the dstack guest-agent test double on a unix socket.
@main
struct DstackSimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dstack-simulator",
        abstract: "Serve the dstack guest agent's v0 API (GetKey, GetQuote, Info, Version) from test fixtures.",
        discussion: """
            Keys are derived from appkeys.json exactly as dstack does. Quotes are recorded TDX quotes made \
            self-consistent with the served Info and event log; only their DCAP signature fails. Never use \
            it outside tests: its keys are public.
            """)

    @Option(help: "Unix socket to listen on (replaced if it exists).")
    var socket: String

    @Option(help: "Fixtures directory (default: Fixtures/dstack from the working directory, then from the package root).")
    var fixtures: String?

    @Option(help: "Quote template: full (attestation.bin, unstripped log) or stripped (tdx-lite-getquote.json).")
    var quoteMode: QuoteModeArgument = .full

    @Option(help: "Version string answered by /Version.")
    var agentVersion = "0.5.11-simulator"

    @Option(help: "Delay every answer by this many milliseconds.")
    var delayMs = 0

    @Option(help: "Answer this method with 400 (repeatable).")
    var failMethod: [String] = []

    @Option(help: "Answer this method with 404 Service not found, e.g. Version (repeatable).")
    var missingMethod: [String] = []

    @Flag(help: "Serve quotes whose REPORTDATA differs from the requested report data.")
    var badReportData = false

    @Flag(help: "Ignore GetKey's algorithm like agents up to 0.5.5 (always certify the secp256k1 key).")
    var ignoreAlgorithm = false

    @Option(help: "Log level (trace, debug, info, notice, warning, error, critical).")
    var logLevel: LogLevelArgument = .info

    func run() async throws {
        var logger = Logger(label: "dstack-simulator")
        logger.logLevel = logLevel.level
        let configuration = DstackSimulatorConfiguration(
            socketPath: socket,
            fixturesDirectory: fixtures ?? defaultDstackFixturesDirectory(),
            quoteMode: quoteMode.mode,
            version: agentVersion,
            delay: .milliseconds(delayMs),
            failingMethods: Set(failMethod),
            missingMethods: Set(missingMethod),
            badReportData: badReportData,
            ignoresAlgorithm: ignoreAlgorithm)
        logger.info(
            "starting dstack simulator",
            metadata: [
                "dstack.socket": "\(configuration.socketPath)",
                "dstack.fixtures": "\(configuration.fixturesDirectory)",
                "dstack.quote_mode": "\(configuration.quoteMode.rawValue)",
            ])
        let application = try buildDstackSimulatorApplication(configuration: configuration, logger: logger)
        try await application.runService()
    }
}

/// `--quote-mode` values.
enum QuoteModeArgument: String, ExpressibleByArgument, CaseIterable {
    case full, stripped

    var mode: DstackSimulatorConfiguration.QuoteMode {
        switch self {
        case .full: return .full
        case .stripped: return .stripped
        }
    }
}

/// `--log-level` values.
enum LogLevelArgument: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .info }
}
