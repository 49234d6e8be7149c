import ArgumentParser
import Foundation
import NIOCore
import SigningProxyVerifier

/// `signing-proxy verify chat --url URL --token T [--stream] [--prompt TEXT] [--model M]
/// [--collateral DIR | --fetch-collateral] [--nras]`.
struct VerifyChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Send a chat completion to a proxy, then verify its signatures and fresh attestation reports end to end.",
        discussion: """
            The request bytes sent and the response bytes received (every SSE byte when streaming) are kept \
            exactly. The ecdsa and ed25519 signatures are each checked against an attestation report fetched \
            with its own random nonce; the ed25519 checks are listed with the prefix "ed25519/".
            """
    )

    @Option(help: "Base URL of the proxy, e.g. http://127.0.0.1:8000.")
    var url: String

    @Option(help: "Bearer token (secret).")
    var token: String

    @Flag(help: "Ask for a streamed (SSE) completion.")
    var stream = false

    @Option(help: "User message to send.")
    var prompt = "Say hello."

    @Option(help: "Model name (default: the first model of /v1/models); a format-B signed text must name it.")
    var model: String?

    @Option(help: "max_tokens of the request.")
    var maxTokens = 32

    @Option(help: "Seconds allowed for each HTTP request.")
    var timeout = 120

    @OptionGroup var pins: VerifyPinOptions

    @OptionGroup var collateral: VerifyCollateralOptions

    @OptionGroup var nras: VerifyNRASOptions

    @OptionGroup var output: VerifyOutputOptions

    func run() async throws {
        let client = ChatExchangeClient(url: url, token: token, timeout: .seconds(Int64(timeout)))
        let report: VerificationReport
        do {
            let exchange = try await client.chat(model: model, prompt: prompt, stream: stream, maxTokens: maxTokens)
            var options = try pins.options(expectedModel: exchange.model)
            try collateral.configure(&options)
            let cache = CollateralCache()
            var combined = VerificationReport(checks: [])
            for (index, algorithm) in ["ecdsa", "ed25519"].enumerated() {
                let signature = try await client.signature(chatID: exchange.chatID, algorithm: algorithm)
                let nonce = (0..<32).map { _ in UInt8.random(in: 0...255) }
                let address = Self.signingAddress(in: signature) ?? ""
                let attestation = try await client.attestation(
                    algorithm: algorithm, nonce: nonce, signingAddress: address, tls: pins.requireTls)
                // Collateral (per platform, fetched once) and NRAS (per nonce) for this report.
                var reportOptions = options
                let online = await OnlineEvidence.gather(
                    for: attestation, signingAddress: address, collateral: collateral, nras: nras, cache: cache,
                    into: &reportOptions)
                let result = ResponseVerifier(options: reportOptions).verify(
                    request: exchange.request, response: exchange.response, signature: signature,
                    attestation: attestation, nonce: nonce)
                combined = combined.appending(try online.apply(to: result), prefix: index == 0 ? "" : "\(algorithm)/")
            }
            report = combined
            if !output.json {
                print("chat \(exchange.chatID): \(exchange.request.count) request bytes, \(exchange.response.count) response bytes\n")
            }
        } catch let failure as ChatExchangeClient.Failure {
            report = VerificationReport(checks: [.init(id: "exchange", status: .fail, detail: failure.description)])
        }
        try VerificationPrinter.finish(report, json: output.json)
    }

    /// `signing_address` of a signature record, to ask the report for the same key.
    private static func signingAddress(in record: [UInt8]) -> String? {
        struct Record: Decodable { var signing_address: String }
        return (try? JSONDecoder().decode(Record.self, from: Data(record)))?.signing_address
    }
}
