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

/// What the user pins and expects, shared by `verify report` and `verify chat`.
struct VerifyPinOptions: ParsableArguments {
    @Option(help: "Reviewed app-compose file; must equal the attested app_compose byte for byte.")
    var compose: String?

    @Option(help: "Pinned dstack KMS root public key (secp256k1, compressed, hex).")
    var kmsPubkey: String?

    @Option(help: "Expected dstack app id (20 bytes, hex).")
    var appId: String?

    @Flag(help: "Require report_data to be bound to a TLS certificate fingerprint.")
    var requireTls = false

    @Flag(help: "Require GPU evidence in the report.")
    var requireGpu = false

    func options(expectedModel: String? = nil) throws -> VerificationOptions {
        VerificationOptions(
            expectedModel: expectedModel,
            composeFile: try compose.map(VerifyInput.read),
            kmsRootPublicKey: kmsPubkey,
            expectedAppID: appId,
            requireTLSBinding: requireTls,
            requireGPUEvidence: requireGpu)
    }
}
