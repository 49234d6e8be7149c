import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SigningCore
import SigningProxyServer

/// `signing-proxy serve`: run the proxy.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the signing proxy in front of vLLM.",
        discussion: """
            Every option falls back to the environment variable in brackets (the Python vllm-proxy's names).
            Secrets (the token, the development key seed) belong in the environment or in files (--token-file, TOKEN_FILE, --dev-key-seed-file, DEV_KEY_SEED_FILE): every local user can read command-line arguments in /proc/<pid>/cmdline.
            Other variables: CHAT_CACHE_EXPIRATION, SIGNATURE_CACHE_CAPACITY, SIGNING_TEXT_FORMAT (plain|model),
            VLLM_PROXY_MAX_REQUEST_SIZE, VLLM_PROXY_TIMEOUT_SECS (upstream), VLLM_PROXY_HEADER_TIMEOUT_SECS,
            VLLM_PROXY_BODY_TIMEOUT_SECS, VLLM_PROXY_BODY_MIN_RATE, VLLM_PROXY_KEEPALIVE_TIMEOUT_SECS,
            VLLM_PROXY_MAX_CONNECTIONS (client limits), ATTESTATION_CACHE_TTL, ATTESTATION_MAX_PENDING,
            ATTESTATION_REQUIRE_AUTH, GPU_NO_HW_MODE, TLS_CERT_PATH, TLS_KEY_PATH, LOG_FORMAT (text|json), LOG_LEVEL (info).
            Several vLLM backends: VLLM_BACKEND_URLS=http://a:8000,http://b:8000 (the default pool, in place of
            VLLM_BASE_URL) and VLLM_MODEL_BACKENDS=chat=http://a:8000,http://b:8000;embed=http://c:8001 (pools by the
            request's model; other models go to the default pool). Fewest requests in flight wins; a backend that
            fails is ejected until its /health answers 200 (probed every 2 s).
            Rate limits (per replica): RATE_LIMIT_PER_SECOND and RATE_LIMIT_BURST_SIZE (a token bucket per token; per
            address on /v1/models), RATE_LIMIT_MAX_CONCURRENT (requests in flight per token); over a limit, 429 with
            Retry-After. Shared receipt store (several replicas of one app): REDIS_HOST, REDIS_PORT (6379), REDIS_PASSWORD,
            REDIS_DB (0), or REDIS_URL=redis://[[user]:password@]host[:port][/db]; signed records are written to Redis
            before an answer's last bytes (waiting at most REDIS_WRITE_TIMEOUT_MS, default 50) and read back by any
            replica (REDIS_LOOKUP_TIMEOUT_MS, default 500); Redis down or slow never fails a completion.
            Inline receipts: a request with X-Signing-Receipt: inline gets its signatures in the answer
            (headers, or ": signature" comment lines after a stream's last event); with eager signing every
            non-streamed answer carries them.
            E2EE: requests whose fields are encrypted for the attested key (the Python proxy's DV v1/v2, NEAR v1/v2,
            ACI v2; told apart by their headers) are decrypted before vLLM and answered encrypted, event by event for
            streams; the signature covers the ciphertext sent and received. E2EE_REPLAY_WINDOW_SECONDS (default 300)
            bounds v2 timestamps and nonce reuse. ACI keys are listed in the report's e2ee_public_keys.
            Keys come from the dstack guest agent; without a reachable agent, serve refuses to start unless --dev is given.
            Routes signed: /v1/chat/completions, /v1/completions, /v1/responses, /v1/messages, /v1/embeddings,
            /v1/rerank, /rerank, /v2/rerank, /v1/score, /score, /pooling, /classify, /v1/audio/transcriptions,
            /v1/audio/translations. Relayed unsigned: /tokenize, /detokenize, /v1/messages/count_tokens,
            GET /v1/responses/{id}, POST /v1/responses/{id}/cancel, GET /v1/models. The proxy's own: /, /health,
            /version, /metrics, /v1/metrics, /v1/signature/{id}, /v1/attestation/report. Anything else is 404.
            """
    )

    @Option(help: "Port to listen on [LISTEN_PORT, default 8000].")
    var port: Int?

    @Option(help: "Address to bind [default 0.0.0.0].")
    var host: String?

    @Option(help: "vLLM base URL, without /v1 [VLLM_BASE_URL, default http://vllm:8000].")
    var upstream: String?

    @Option(help: "Model name: key paths, signed text format 'model', reports [MODEL_NAME, required].")
    var modelName: String?

    @Option(
        help: """
            Bearer token, or a comma-separated list (secret) [TOKEN, required]. Every local user can read it in \
            /proc/<pid>/cmdline: prefer TOKEN or --token-file.
            """)
    var token: String?

    @Option(help: ArgumentHelp("File holding the token(s) as TOKEN would; surrounding whitespace ignored [TOKEN_FILE].", valueName: "path"))
    var tokenFile: String?

    @Flag(help: "Development keys, no dstack agent: NEVER in production [DEV=1].")
    var dev = false

    @Option(
        help: """
            Seed for deterministic development keys (secret; needs --dev) [DEV_KEY_SEED]. Every local user can \
            read it in /proc/<pid>/cmdline: prefer DEV_KEY_SEED or --dev-key-seed-file.
            """)
    var devKeySeed: String?

    @Option(help: ArgumentHelp("File holding the development key seed; surrounding whitespace ignored [DEV_KEY_SEED_FILE].", valueName: "path"))
    var devKeySeedFile: String?

    @Option(help: "dstack agent: unix socket path or http URL [DSTACK_SIMULATOR_ENDPOINT, then /var/run/dstack.sock ...].")
    var dstackEndpoint: String?

    @Option(help: "PEM certificate for TLS termination and report binding [TLS_CERT_PATH].")
    var tlsCert: String?

    @Option(help: "PEM private key for TLS termination (secret) [TLS_KEY_PATH].")
    var tlsKey: String?

    @Option(help: "When to sign: eager (before the response ends) or lazy (on first /v1/signature lookup) [SIGNING_MODE, default eager].")
    var signingMode: String?

    func run() async throws {
        var configuration: ProxyConfiguration
        do {
            configuration = try ProxyConfiguration(environment: ProcessInfo.processInfo.environment)
            if let port { configuration.port = port }
            if let host { configuration.host = host }
            if let upstream {
                // The option names the one backend, in place of VLLM_BACKEND_URLS as well as VLLM_BASE_URL.
                configuration.upstream = upstream
                configuration.backendURLs = []
            }
            if let modelName { configuration.modelName = modelName }
            try configuration.applySecretOptions(
                token: token, tokenFile: tokenFile, devKeySeed: devKeySeed, devKeySeedFile: devKeySeedFile)
            if dev { configuration.dev = true }
            if let dstackEndpoint { configuration.dstackEndpoint = dstackEndpoint }
            if let tlsCert { configuration.tlsCertificatePath = tlsCert }
            if let tlsKey { configuration.tlsKeyPath = tlsKey }
            if let signingMode { configuration.signingMode = try ProxyConfiguration.parseSigningMode(signingMode) }
            try configuration.validate()
        } catch {
            throw ValidationError("\(error)")
        }
        LoggingSetup.bootstrap(format: configuration.logFormat)
        let logger = Logger(label: "signing-proxy")
        for variable in ProxyConfiguration.unsupportedVariables where ProcessInfo.processInfo.environment[variable] != nil {
            logger.warning("\(variable) is set but not supported by signing-proxy; ignored")
        }

        let resolved: KeySource.Resolved
        do {
            resolved = try await KeySource.resolve(configuration: configuration, logger: logger)
        } catch {
            logger.critical("refusing to start: \(error)")
            throw ExitCode.failure
        }
        let keys = resolved.keys
        let proxy = ProxyApplication(configuration: configuration, keys: keys, attestation: resolved.attestation)
        let modelName = configuration.modelName
        let signingModeName = configuration.signingMode.rawValue
        let app = try proxy.makeApplication(logger: logger) { port in
            logger.info(
                "signing-proxy listening",
                metadata: [
                    "port": "\(port)", "model": "\(modelName)",
                    "signing.address": "\(keys.ecdsaAddress.checksummed)", "keys.origin": "\(keys.origin.rawValue)",
                    "signing.mode": "\(signingModeName)",
                ]
            )
        }
        try await app.runService()
    }
}
