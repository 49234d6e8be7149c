import ArgumentParser
import Foundation
import SigningProxyVerifier

/// `signing-proxy verify quote --file F [--collateral DIR | --fetch-collateral [--pccs-url URL]]`.
struct VerifyQuoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote",
        abstract: "Verify a TDX quote: header, DCAP chain to Intel's root, debug bit, and RTMR replay when an event log is given.",
        discussion: """
            F holds a hex quote, a binary quote, or JSON with "quote" or "intel_quote" (and optionally "event_log"). \
            With Intel collateral (--collateral or --fetch-collateral) the TCB status and revocation are checked too.
            """
    )

    @Option(help: "File with the quote (hex, binary, or JSON).")
    var file: String

    @OptionGroup var collateral: VerifyCollateralOptions

    @OptionGroup var output: VerifyOutputOptions

    func run() async throws {
        let input = try VerifyInput.read(file)
        var options = VerificationOptions()
        try collateral.configure(&options)
        var failure: String?
        switch try await collateral.collateral(for: ResponseVerifier.collateralRequest(forQuote: input)) {
        case .success(let fetched)?: options.collateral = fetched
        case .failure(let error)?: failure = "Intel collateral could not be fetched: \(error.description)"
        case nil: break
        }
        var report = ResponseVerifier(options: options).verifyQuote(input)
        if let failure { report = OnlineFailure.mark(report, ids: OnlineFailure.collateralChecks, reason: failure) }
        try VerificationPrinter.finish(report, json: output.json)
    }
}
