import ArgumentParser
import Foundation
import SigningProxyVerifier

/// `signing-proxy verify report --file F --nonce HEX [--compose FILE] [--kms-pubkey HEX] [--app-id HEX]
/// [--collateral DIR | --fetch-collateral] [--nras]`.
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

    @OptionGroup var collateral: VerifyCollateralOptions

    @OptionGroup var nras: VerifyNRASOptions

    @OptionGroup var output: VerifyOutputOptions

    func run() async throws {
        let input = try VerifyInput.read(file)
        let nonceBytes = try VerifyInput.nonce(nonce)
        var options = try pins.options()
        try collateral.configure(&options)
        let online = await OnlineEvidence.gather(
            for: input, signingAddress: signingAddress, collateral: collateral, nras: nras, into: &options)
        let report = ResponseVerifier(options: options).verifyAttestation(input, nonce: nonceBytes, signingAddress: signingAddress)
        try VerificationPrinter.finish(try online.apply(to: report), json: output.json)
    }
}
