import ArgumentParser
import Foundation
import SigningProxyVerifier

/// `signing-proxy verify exchange --url URL --token T --path ROUTE [--body FILE | --stream …]`.
struct VerifyExchangeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange",
        abstract: "Send one request on any signed route, then verify its signatures and fresh attestation reports end to end.",
        discussion: """
            Signed routes (--path): /v1/chat/completions, /v1/completions, /v1/responses, /v1/messages \
            (streamed or not), /v1/embeddings, /v1/rerank (/rerank, /v2/rerank), /v1/score (/score), /pooling, \
            /classify. --body FILE sends that file's bytes exactly (its "stream" field decides streaming); \
            without it a minimal request for the route is built from --model, --prompt, --max-tokens and --stream.

            The answer is read as its route says: the id (top-level "id"; response.id in a Responses stream's \
            first event; message.id in a Messages stream's message_start) and its clean end (data: [DONE]; \
            response.completed or response.incomplete; message_stop). An answer that did not end cleanly, or \
            that reports an error, is never signed, and the command says so. The ecdsa and ed25519 signatures \
            are each checked against an attestation report fetched with its own random nonce (ed25519 checks \
            are listed with the prefix "ed25519/"). Over https:// the certificate of the connection that \
            carried the exchange is recorded and compared with the report's TLS binding; --cacert trusts a \
            self-signed proxy certificate. Against development keys (no attestation) the signature checks are \
            still reported.

            --inline asks for the answer's own receipt (X-Signing-Receipt: inline) and verifies the signatures \
            from the received bytes alone: the receipt headers of a non-streamed answer, or a stream's \
            ": signature" comment lines after its last event; no /v1/signature lookup is made. The signing key \
            is still bound to fresh attestation reports.
            """
    )

    @OptionGroup var connection: VerifyConnectionOptions

    @Option(help: "Route path of the exchange.")
    var path = "/v1/chat/completions"

    @Option(help: ArgumentHelp("Request body to send, byte for byte (JSON).", valueName: "file"))
    var body: String?

    @Flag(help: "Without --body: ask for a streamed (SSE) answer (chat, completions, responses, messages).")
    var stream = false

    @Option(help: "Without --body: the text of the request.")
    var prompt = "Say hello."

    @Option(help: "Model name (default: the first model of /v1/models); a format-B signed text must name it.")
    var model: String?

    @Option(help: "Without --body: max_tokens (max_output_tokens for /v1/responses).")
    var maxTokens = 32

    @Flag(help: "Ask for the answer's inline receipt and verify it from the received bytes, with no /v1/signature lookup.")
    var inline = false

    @OptionGroup var pins: VerifyPinOptions

    @OptionGroup var collateral: VerifyCollateralOptions

    @OptionGroup var nras: VerifyNRASOptions

    @OptionGroup var output: VerifyOutputOptions

    func validate() throws {
        guard let route = SignedRoute(path: path) else {
            let known = SignedRoute.allCases.map(\.path).joined(separator: ", ")
            throw ValidationError("--path \(path) is not a signed route (\(known), /rerank, /v2/rerank, /score)")
        }
        if body != nil, stream { throw ValidationError("--stream builds a request; with --body the body's own \"stream\" field decides") }
        if stream, !route.streams { throw ValidationError("\(path) has no streamed form") }
    }

    func run() async throws {
        guard let route = SignedRoute(path: path) else { throw ValidationError("--path \(path) is not a signed route") }
        let client = try connection.client()
        var expectedModel = model
        let request: [UInt8]
        do {
            if let body {
                request = try VerifyInput.read(body)
                struct Named: Decodable { var model: String? }
                if expectedModel == nil { expectedModel = (try? JSONDecoder().decode(Named.self, from: Data(request)))?.model }
            } else {
                let name: String
                if let model { name = model } else { name = try await client.firstModel() }
                expectedModel = name
                request = try DefaultRequestBody.make(route: route, model: name, prompt: prompt, maxTokens: maxTokens, stream: stream)
            }
        } catch let failure as ExchangeClient.Failure {
            try VerificationPrinter.finish(
                VerificationReport(checks: [.init(id: "exchange", status: .fail, detail: failure.description)]), json: output.json)
            return
        }
        let report = try await ExchangeVerification(client: client, pins: pins, collateral: collateral, nras: nras)
            .run(path: path, route: route, request: request, expectedModel: expectedModel, inline: inline)
        try VerificationPrinter.finish(report, json: output.json)
    }
}
