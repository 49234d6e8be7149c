import ArgumentParser
import Logging
import MockVLLM

import Foundation

/// `mock-vllm`: an OpenAI-compatible server that answers like vLLM 0.32, for tests and benchmarks.
@main
struct MockVLLMCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-vllm",
        abstract: "Serve vLLM-style completions (exact vLLM 0.32 framing) with injectable faults.",
        discussion: """
            Routes (one model serves them all): POST /v1/chat/completions, /v1/completions, /v1/responses, \
            /v1/messages (streaming and not), /v1/messages/count_tokens, /v1/embeddings, /pooling, /classify, \
            /score, /v1/score, /rerank, /v1/rerank, /v2/rerank, /tokenize, /detokenize, \
            /v1/audio/transcriptions, /v1/audio/translations (multipart; stream=true streams); \
            GET /v1/responses/{id}, POST /v1/responses/{id}/cancel; GET /v1/models, /metrics, /health; \
            vLLM's administrative routes (/sleep, /wake_up, /reset_prefix_cache, /scale_elastic_ep, \
            /load_lora_adapter, …) answer 200 with no body. Once bound, prints one line to stdout: \
            mock-vllm listening on http://HOST:PORT
            """
    )

    @Option(help: "TCP port to listen on; 0 picks a free port (the line printed on start names it).")
    var port: Int

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "The served model name; requests naming another get vLLM's 404.")
    var model: String = "tiny"

    @Option(help: "Tokens generated per completion (a request's max_tokens can only lower it).")
    var tokens: Int = 8

    @Option(name: .customLong("delay-ms"), help: "Milliseconds between two stream events.")
    var delayMilliseconds: Int = 0

    @Flag(
        name: .customLong("split-writes"),
        help: "Send every event in several writes (split inside 'data: ', the JSON, a UTF-8 sequence, before the final newlines)."
    )
    var splitWrites = false

    @Option(
        name: .customLong("fail-after"),
        help: "After N events (or body pieces), close the connection without ending the body."
    )
    var failAfter: Int?

    @Option(help: "Answer every model request (completions, Responses, Messages, pooling, …) with this HTTP status (400-599) and a vLLM-style error body.")
    var status: Int?

    @Option(name: .customLong("header-delay-ms"), help: "Milliseconds to wait before sending a response head.")
    var headerDelayMilliseconds: Int = 0

    @Option(name: .customLong("max-model-len"), help: "vLLM's max_model_len: a larger max_tokens gets vLLM's 400.")
    var maxModelLength: Int = 512

    @Flag(
        name: .customLong("request-faults"),
        help: """
            Honour the mock-only request fields mock_fail_after, mock_delay_ms and mock_header_delay_ms (per-request cuts \
            and pacing), and mock_terminal (incomplete, failed or error: how a Responses, Messages or completion stream ends).
            """
    )
    var requestFaults = false

    @Option(
        name: .customLong("request-log"),
        help: "Append one JSON line per request received (method, path, framing headers, body size and FNV-1a, answer id) to this file."
    )
    var requestLog: String?

    @Flag(
        help: """
            Echo the prompt instead of generating: chat answers carry the last user message's text (its parts' text \
            joined), completions the prompt, streamed as up to --tokens deltas (max_tokens can lower it); a chat request's \
            first system message comes back as reasoning (vLLM 0.32's "reasoning" field, or "reasoning_content" when the \
            request has "mock_reasoning_field": "reasoning_content"), streamed before the content. For E2EE tests.
            """
    )
    var echo = false

    @Flag(
        name: .customLong("request-log-bodies"),
        help: "With --request-log: also write each request body's text (\"body\"), to check what reached the upstream."
    )
    var requestLogBodies = false

    func validate() throws {
        guard self.maxModelLength >= 1 else { throw ValidationError("--max-model-len must be at least 1.") }
        guard (0...65535).contains(self.port) else { throw ValidationError("--port must be between 0 and 65535.") }
        guard self.tokens >= 1 else { throw ValidationError("--tokens must be at least 1.") }
        guard self.delayMilliseconds >= 0 else { throw ValidationError("--delay-ms must not be negative.") }
        guard self.headerDelayMilliseconds >= 0 else { throw ValidationError("--header-delay-ms must not be negative.") }
        if let failAfter = self.failAfter, failAfter < 0 { throw ValidationError("--fail-after must not be negative.") }
        if let status = self.status, !(400...599).contains(status) {
            throw ValidationError("--status must be between 400 and 599.")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var logger = Logger(label: "mock-vllm")
        logger.logLevel = .notice

        let configuration = MockVLLMConfiguration(
            host: self.host,
            port: self.port,
            model: self.model,
            tokens: self.tokens,
            maxModelLength: self.maxModelLength,
            delay: .milliseconds(self.delayMilliseconds),
            headerDelay: .milliseconds(self.headerDelayMilliseconds),
            splitWrites: self.splitWrites,
            failAfter: self.failAfter,
            forcedStatus: self.status,
            requestFaults: self.requestFaults,
            requestLogPath: self.requestLog,
            echo: self.echo,
            requestLogBodies: self.requestLogBodies
        )
        let host = self.host
        try await runMockVLLMUntilSignalled(configuration: configuration, logger: logger) { port in
            // Written unbuffered: scripts wait for this line before sending requests.
            FileHandle.standardOutput.write(Data("mock-vllm listening on http://\(host):\(port)\n".utf8))
        }
    }
}
