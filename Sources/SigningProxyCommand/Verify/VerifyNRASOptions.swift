import ArgumentParser
import SigningProxyVerifier

/// `--nras`: ask NVIDIA NRAS for its verdict on the report's GPU evidence (online, explicit).
struct VerifyNRASOptions: ParsableArguments {
    @Flag(help: "Send the report's GPU evidence to NVIDIA NRAS v3 and verify its signed verdict (online).")
    var nras = false

    @Option(help: ArgumentHelp("Base URL of NRAS (default https://nras.attestation.nvidia.com).", valueName: "url"))
    var nrasUrl: String?

    func validate() throws {
        if nrasUrl != nil, !nras { throw ValidationError("--nras-url needs --nras") }
    }

    /// NRAS's answer for the entry of `attestation` selected by `signingAddress`; nil without `--nras`
    /// or when the entry carries no GPU evidence.
    func attestation(for attestation: [UInt8], signingAddress: String?) async -> Result<NRASAttestation, NRASClient.Failure>? {
        guard nras, let payload = ResponseVerifier.nvidiaPayload(inAttestation: attestation, signingAddress: signingAddress) else {
            return nil
        }
        do {
            return .success(try await NRASClient(baseURL: nrasUrl).attest(payload: payload))
        } catch {
            return .failure(error)
        }
    }
}
