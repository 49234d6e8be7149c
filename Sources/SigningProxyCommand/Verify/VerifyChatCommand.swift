import ArgumentParser
import Foundation
import SigningProxyVerifier

/// `signing-proxy verify chat --url URL --token T [--stream] [--prompt TEXT] [--model M] [--cacert PATH]
/// [--collateral DIR | --fetch-collateral] [--nras]`: `verify exchange` on `/v1/chat/completions`.
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
            let request = try DefaultRequestBody.make(
                route: .chatCompletions, model: name, prompt: prompt, maxTokens: maxTokens, stream: stream)
            report = try await ExchangeVerification(client: client, pins: pins, collateral: collateral, nras: nras)
                .run(path: SignedRoute.chatCompletions.path, route: .chatCompletions, request: request, expectedModel: name)
        } catch let failure as ExchangeClient.Failure {
            report = VerificationReport(checks: [.init(id: "exchange", status: .fail, detail: failure.description)])
        }
        try VerificationPrinter.finish(report, json: output.json)
    }
}
