import ArgumentParser
import Foundation
import SigningProxyVerifier

/// `signing-proxy verify quote --file F`.
struct VerifyQuoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote",
        abstract: "Verify a TDX quote: header, DCAP chain to Intel's root, debug bit, and RTMR replay when an event log is given.",
        discussion: "F holds a hex quote, a binary quote, or JSON with \"quote\" or \"intel_quote\" (and optionally \"event_log\")."
    )

    @Option(help: "File with the quote (hex, binary, or JSON).")
    var file: String

    @OptionGroup var output: VerifyOutputOptions

    func run() async throws {
        let input = try VerifyInput.read(file)
        let report = ResponseVerifier().verifyQuote(input)
        try VerificationPrinter.finish(report, json: output.json)
    }
}
