import ArgumentParser
import Foundation
import SigningProxyVerifier

/// `signing-proxy verify chat --url URL --token T [--stream] [--prompt TEXT] [--model M] [--cacert PATH]
/// [--collateral DIR | --fetch-collateral] [--nras] [--e2ee ecdsa|ed25519 [--dialect dv|near|aci]]`:
/// `verify exchange` on `/v1/chat/completions`, the prompt encrypted end to end with `--e2ee`.
struct VerifyChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Send a chat completion to a proxy, then verify its signatures and fresh attestation reports end to end.",
        discussion: """
            The request bytes sent and the response bytes received (every SSE byte when streaming) are kept \
            exactly. The ecdsa and ed25519 signatures are each checked against an attestation report fetched \
            with its own random nonce; the ed25519 checks are listed with the prefix "ed25519/". Over https:// \
            the certificate of the connection used is compared with the report's TLS binding (--cacert trusts \
            a self-signed proxy certificate). Other routes: `verify exchange --path`.

            --e2ee ecdsa|ed25519 encrypts the prompt end to end (docs/E2EE.md). First an attestation report is \
            fetched with its own nonce and the model key taken from it: its signing_public_key (dv, near), or for \
            aci the e2ee_public_keys entry of the suite (ecdsa: secp256k1, ed25519: x25519). The prompt is sealed \
            with the dialect's headers (--dialect dv: DV v2, with nonce and timestamp; near: NEAR v2; aci: ACI v2), \
            the answer opened and printed (check e2ee.answer), and the signatures verified over the bytes on the \
            wire: sha256 of the ciphertext body sent, sha256 of the encrypted answer received. e2ee.model-key \
            checks that the key the prompt was sealed to is the attested signing key of that algorithm.
            """
    )

    @OptionGroup var connection: VerifyConnectionOptions

    @Flag(help: "Ask for a streamed (SSE) completion.")
    var stream = false

    @Option(help: "User message to send.")
    var prompt = "Say hello."

    @Option(help: "Model name (default: the first model of /v1/models); a format-B signed text must name it.")
    var model: String?

    @Option(help: "max_tokens of the request.")
    var maxTokens = 32

    @Option(help: ArgumentHelp("Encrypt the prompt end to end with this algorithm's key (ecdsa or ed25519).", valueName: "algorithm"))
    var e2ee: String?

    @Option(help: ArgumentHelp("With --e2ee: the dialect (dv: DV v2, near: NEAR v2, aci: ACI v2).", valueName: "dialect"))
    var dialect: String?

    func validate() throws {
        if let e2ee, EncryptedChat.Algorithm(rawValue: e2ee) == nil {
            throw ValidationError("--e2ee takes ecdsa or ed25519 (got \(e2ee))")
        }
        if let dialect {
            guard e2ee != nil else { throw ValidationError("--dialect needs --e2ee ecdsa|ed25519") }
            guard EncryptedChat.Dialect(rawValue: dialect) != nil else {
                throw ValidationError("--dialect takes dv, near or aci (got \(dialect))")
            }
        }
    }

    @OptionGroup var pins: VerifyPinOptions

    @OptionGroup var collateral: VerifyCollateralOptions

    @OptionGroup var nras: VerifyNRASOptions

    @OptionGroup var output: VerifyOutputOptions

    func run() async throws {
        let client = try connection.client()
        let report: VerificationReport
        do {
            let name: String
            if let model { name = model } else { name = try await client.firstModel() }
            let verification = ExchangeVerification(client: client, pins: pins, collateral: collateral, nras: nras)
            if let e2ee, let algorithm = EncryptedChat.Algorithm(rawValue: e2ee) {
                let chosen = EncryptedChat.Dialect(rawValue: dialect ?? "dv") ?? .dv
                report = try await EncryptedChatVerification(verification: verification)
                    .run(dialect: chosen, algorithm: algorithm, model: name, prompt: prompt, maxTokens: maxTokens, stream: stream)
            } else {
                let request = try DefaultRequestBody.make(
                    route: .chatCompletions, model: name, prompt: prompt, maxTokens: maxTokens, stream: stream)
                report = try await verification
                    .run(path: SignedRoute.chatCompletions.path, route: .chatCompletions, request: request, expectedModel: name)
            }
        } catch let failure as ExchangeClient.Failure {
            report = VerificationReport(checks: [.init(id: "exchange", status: .fail, detail: failure.description)])
        }
        try VerificationPrinter.finish(report, json: output.json)
    }
}
