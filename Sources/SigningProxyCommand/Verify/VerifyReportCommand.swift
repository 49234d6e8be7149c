import ArgumentParser
import Foundation
import SigningProxyVerifier

/// `signing-proxy verify report --file F --nonce HEX [--compose FILE] [--kms-pubkey HEX] [--app-id HEX]`.
struct VerifyReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Verify an attestation report (/v1/attestation/report answer) obtained with your nonce."
    )

    @Option(help: "File with the attestation report JSON.")
    var file: String

    @Option(help: "The 32-byte nonce (64 hex) sent with the report request.")
    var nonce: String

    @OptionGroup var pins: VerifyPinOptions

    @Option(help: "Signing address selecting the entry of all_attestations (default: the top-level report).")
    var signingAddress: String?

    @OptionGroup var output: VerifyOutputOptions

    func run() async throws {
        let input = try VerifyInput.read(file)
        let verifier = ResponseVerifier(options: try pins.options())
        let report = verifier.verifyAttestation(input, nonce: try VerifyInput.nonce(nonce), signingAddress: signingAddress)
        try VerificationPrinter.finish(report, json: output.json)
    }
}
