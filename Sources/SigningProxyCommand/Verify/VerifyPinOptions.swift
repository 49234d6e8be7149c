import ArgumentParser
import SigningProxyVerifier

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
