import SigningCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything `serve` needs, read from the environment (docs/API.md, Environment) and overridden by
/// command-line options.
///
/// Secrets: `tokens` (TOKEN or TOKEN_FILE) and `devKeySeed` (DEV_KEY_SEED or DEV_KEY_SEED_FILE). They are
/// never logged or described, and neither are the contents of their files.
package struct ProxyConfiguration: Sendable {
    /// Address to bind. Not in the anchors; they bind every interface.
    package var host = "0.0.0.0"
    /// `LISTEN_PORT`, default 8000 like every anchor.
    package var port = 8000
    /// `VLLM_BASE_URL`: upstream base URL, without the `/v1/...` path.
    package var upstream = "http://vllm:8000"
    /// `VLLM_BACKEND_URLS`: the default pool's base URLs, in place of `upstream` when not empty.
    package var backendURLs: [String] = []
    /// `VLLM_MODEL_BACKENDS`: pools for the requests naming these models (see ``BackendLayout``).
    package var modelBackends: [BackendLayout.ModelRoute] = []
    /// How often every backend's `/health` is probed when there are several, and how long a probe may take.
    package var backendProbeInterval: Duration = .seconds(2)
    package var backendProbeTimeout: Duration = .seconds(1)
    /// `MODEL_NAME` (required): key paths, signed-text format B and `model_name`.
    package var modelName = ""
    /// `TOKEN` (required, secret): accepted Bearer tokens.
    package var tokens: [String] = []
    /// `VLLM_PROXY_MAX_REQUEST_SIZE`: request body limit in bytes.
    package var maxRequestSize = 10 * 1024 * 1024
    /// Non-streaming upstream bodies larger than this are refused with 502 rather than buffered.
    package var maxUpstreamResponseSize = 64 * 1024 * 1024
    /// `VLLM_PROXY_TIMEOUT_SECS`: bounds the wait for response headers and every gap between body chunks.
    package var upstreamTimeout: Duration = .seconds(600)
    /// `VLLM_PROXY_HEADER_TIMEOUT_SECS`: a request's head must arrive within this, counted from its
    /// first byte (or from the connection's opening, for its first request); else 408 and close.
    package var headerTimeout: Duration = .seconds(15)
    /// `VLLM_PROXY_BODY_TIMEOUT_SECS`: a request body may take this long whatever its pace; after it,
    /// it must have averaged `bodyMinRate`.
    package var bodyTimeout: Duration = .seconds(15)
    /// `VLLM_PROXY_BODY_MIN_RATE`: bytes per second a request body must average once `bodyTimeout`
    /// has passed; else 408 and close.
    package var bodyMinRate = 4096
    /// `VLLM_PROXY_KEEPALIVE_TIMEOUT_SECS`: how long an idle keep-alive connection waits for its next request.
    package var keepAliveTimeout: Duration = .seconds(60)
    /// `VLLM_PROXY_MAX_CONNECTIONS`: client connections served at once; more are answered 503 and closed.
    package var maxConnections = 8192
    /// Upstream connect timeout (docs/API.md, Completions).
    package var connectTimeout: Duration = .seconds(10)
    /// Idle keep-alive upstream connections kept for reuse, across all event loops. Connections in use
    /// are not capped: one per request in flight, as vLLM expects.
    package var upstreamPoolSize = 1024
    /// `CHAT_CACHE_EXPIRATION`: signature TTL.
    package var chatCacheExpiration: Duration = .seconds(1200)
    /// `SIGNATURE_CACHE_CAPACITY`: signature store entries.
    package var signatureCacheCapacity = 100_000
    /// `SIGNING_TEXT_FORMAT`: `plain` or `model`.
    package var signingTextFormat: SigningTextFormat = .plain
    /// `SIGNING_MODE`: `eager` (sign before the response ends) or `lazy` (sign on first lookup).
    package var signingMode: SigningMode = .eager
    /// `RATE_LIMIT_PER_SECOND`, `RATE_LIMIT_BURST_SIZE`, `RATE_LIMIT_MAX_CONCURRENT`; nil: no limits.
    package var rateLimits: RateLimitSettings?
    /// `REDIS_HOST` (`REDIS_PORT`, `REDIS_PASSWORD`, `REDIS_DB`) or `REDIS_URL`, `REDIS_WRITE_TIMEOUT_MS`,
    /// `REDIS_LOOKUP_TIMEOUT_MS`: the shared receipt store; nil: records stay in this process.
    package var sharedStore: SharedStoreSettings?
    /// `ATTESTATION_REQUIRE_AUTH`: Bearer required on the attestation route.
    package var attestationRequireAuth = false
    /// `ATTESTATION_CACHE_TTL`: nonce-less report cache (minimum 2 s).
    package var attestationCacheTTL: Duration = .seconds(300)
    /// `ATTESTATION_MAX_PENDING`: fresh reports allowed to wait.
    package var attestationMaxPending = 8
    /// `GPU_NO_HW_MODE`: canned GPU evidence.
    package var gpuNoHardwareMode = false
    /// `TLS_CERT_PATH` / `--tls-cert`: PEM certificate (its SPKI is bound in the TLS report layout).
    package var tlsCertificatePath: String?
    /// `TLS_KEY_PATH` / `--tls-key` (secret file): terminates TLS inside the proxy when set with the certificate.
    package var tlsKeyPath: String?
    /// `DEV`: development keys, no dstack agent needed. Never in production.
    package var dev = false
    /// `DEV_KEY_SEED` (secret): deterministic development keys.
    package var devKeySeed: String?
    /// `--dstack-endpoint` / `DSTACK_SIMULATOR_ENDPOINT`: agent socket path or http URL.
    package var dstackEndpoint: String?
    /// `LOG_FORMAT`: `text` or `json`.
    package var logFormat = "text"
    /// `E2EE_REPLAY_WINDOW_SECONDS`: how far an E2EE v2 timestamp may be from now, and how long its nonce stays
    /// spent (docs/E2EE.md, "AAD, freshness, replay").
    package var e2eeReplayWindow: Int64 = 300

    package init() {}

    /// Variables other vllm-proxy implementations read that this proxy deliberately does not support
    /// (docs/API.md, Environment).
    package static let unsupportedVariables = [
        "CLOUD_API_URL", "OHTTP_ENABLED",
    ]

    /// Reads the environment; unset variables keep their defaults.
    package init(environment env: [String: String]) throws(ConfigurationError) {
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingWhitespace(), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ name: String, minimum: Int) throws(ConfigurationError) -> Int? {
            guard let raw = value(name) else { return nil }
            guard let number = Int(raw), number >= minimum else {
                throw .invalid(name, "must be an integer ≥ \(minimum)")
            }
            return number
        }
        if let port = try integer("LISTEN_PORT", minimum: 0) { self.port = port }
        if let upstream = value("VLLM_BASE_URL") { self.upstream = upstream }
        if let urls = value("VLLM_BACKEND_URLS") {
            guard value("VLLM_BASE_URL") == nil else { throw .invalid("VLLM_BACKEND_URLS", "and VLLM_BASE_URL are both set; set one") }
            self.backendURLs = try BackendLayout.parseURLs(urls, variable: "VLLM_BACKEND_URLS")
        }
        if let routes = value("VLLM_MODEL_BACKENDS") { self.modelBackends = try BackendLayout.parseRoutes(routes) }
        if let model = value("MODEL_NAME") { self.modelName = model }
        if let tokens = try Self.secret("TOKEN", file: "TOKEN_FILE", in: env) { self.tokens = Self.parseTokens(tokens) }
        if let size = try integer("VLLM_PROXY_MAX_REQUEST_SIZE", minimum: 1) { self.maxRequestSize = size }
        if let secs = try integer("VLLM_PROXY_TIMEOUT_SECS", minimum: 1) { self.upstreamTimeout = .seconds(secs) }
        if let secs = try integer("VLLM_PROXY_HEADER_TIMEOUT_SECS", minimum: 1) { self.headerTimeout = .seconds(secs) }
        if let secs = try integer("VLLM_PROXY_BODY_TIMEOUT_SECS", minimum: 1) { self.bodyTimeout = .seconds(secs) }
        if let rate = try integer("VLLM_PROXY_BODY_MIN_RATE", minimum: 1) { self.bodyMinRate = rate }
        if let secs = try integer("VLLM_PROXY_KEEPALIVE_TIMEOUT_SECS", minimum: 1) { self.keepAliveTimeout = .seconds(secs) }
        if let count = try integer("VLLM_PROXY_MAX_CONNECTIONS", minimum: 1) { self.maxConnections = count }
        if let secs = try integer("CHAT_CACHE_EXPIRATION", minimum: 1) { self.chatCacheExpiration = .seconds(secs) }
        if let capacity = try integer("SIGNATURE_CACHE_CAPACITY", minimum: 1) { self.signatureCacheCapacity = capacity }
        if let window = try integer("E2EE_REPLAY_WINDOW_SECONDS", minimum: 1) {
            // ACI allows at most 300 s; a longer window would accept what every reference refuses.
            guard window <= 300 else { throw .invalid("E2EE_REPLAY_WINDOW_SECONDS", "must be at most 300") }
            self.e2eeReplayWindow = Int64(window)
        }
        if let format = value("SIGNING_TEXT_FORMAT") {
            guard let parsed = SigningTextFormat(rawValue: format.lowercased()) else {
                throw .invalid("SIGNING_TEXT_FORMAT", "must be 'plain' or 'model'")
            }
            self.signingTextFormat = parsed
        }
        if let mode = value("SIGNING_MODE") { self.signingMode = try Self.parseSigningMode(mode) }
        self.rateLimits = try RateLimitSettings.parse(value)
        self.sharedStore = try SharedStoreSettings.parse(env)
        self.attestationRequireAuth = Self.flag(value("ATTESTATION_REQUIRE_AUTH"))
        if let secs = try integer("ATTESTATION_CACHE_TTL", minimum: 2) { self.attestationCacheTTL = .seconds(secs) }
        if let pending = try integer("ATTESTATION_MAX_PENDING", minimum: 1) { self.attestationMaxPending = pending }
        self.gpuNoHardwareMode = Self.flag(value("GPU_NO_HW_MODE"))
        self.tlsCertificatePath = value("TLS_CERT_PATH")
        self.tlsKeyPath = value("TLS_KEY_PATH")
        self.dev = Self.flag(value("DEV"))
        self.devKeySeed = try Self.secret("DEV_KEY_SEED", file: "DEV_KEY_SEED_FILE", in: env)
        self.dstackEndpoint = value("DSTACK_SIMULATOR_ENDPOINT")
        if let format = value("LOG_FORMAT") { self.logFormat = format.lowercased() }
    }

    /// Checks what `serve` cannot start without.
    package func validate() throws(ConfigurationError) {
        if modelName.isEmpty { throw .missing("MODEL_NAME", option: "--model-name") }
        if tokens.isEmpty { throw .missing("TOKEN", option: "--token") }
        guard (0...65535).contains(port) else { throw .invalid("LISTEN_PORT", "must be 0–65535") }
        guard upstream.hasPrefix("http://") || upstream.hasPrefix("https://") else {
            throw .invalid("VLLM_BASE_URL", "must start with http:// or https://")
        }
        // The upstream connections parse it the same way; refuse to start rather than answer 502 to everything.
        guard UpstreamTarget(baseURL: upstreamBase) != nil else {
            throw .invalid("VLLM_BASE_URL", "must be http(s)://host[:port][/path], port 1–65535, no user info")
        }
        if tlsKeyPath != nil && tlsCertificatePath == nil {
            throw .invalid("TLS_KEY_PATH", "needs TLS_CERT_PATH as well")
        }
    }

    /// Applies the secret options of `serve`: each overrides its environment variables, and a value
    /// given together with its file is refused.
    ///
    /// `--token` and `--dev-key-seed` are readable by every local user in `/proc/<pid>/cmdline`;
    /// `--token-file` and `--dev-key-seed-file` (or the variables) keep the secret off the command line.
    package mutating func applySecretOptions(
        token: String?, tokenFile: String?, devKeySeed: String?, devKeySeedFile: String?
    ) throws(ConfigurationError) {
        if token != nil && tokenFile != nil { throw .invalid("--token-file", "and --token are both given; pass one") }
        if devKeySeed != nil && devKeySeedFile != nil {
            throw .invalid("--dev-key-seed-file", "and --dev-key-seed are both given; pass one")
        }
        if let token { tokens = Self.parseTokens(token) }
        if let tokenFile { tokens = Self.parseTokens(try Self.readSecretFile(tokenFile, variable: "--token-file")) }
        if let devKeySeed { self.devKeySeed = devKeySeed }
        if let devKeySeedFile { self.devKeySeed = try Self.readSecretFile(devKeySeedFile, variable: "--dev-key-seed-file") }
    }

    /// A secret given as `variable` or as the path of a file in `file`, never both (docs/API.md, Environment).
    ///
    /// `TOKEN` stays as given (its entries are trimmed by `parseTokens`); anything else is trimmed of
    /// surrounding whitespace, as every variable is.
    private static func secret(_ variable: String, file: String, in env: [String: String]) throws(ConfigurationError) -> String? {
        let direct = env[variable].flatMap { $0.trimmingWhitespace().isEmpty ? nil : $0 }
        guard let path = env[file]?.trimmingWhitespace(), !path.isEmpty else {
            return variable == "TOKEN" ? direct : direct?.trimmingWhitespace()
        }
        guard direct == nil else { throw .invalid(file, "and \(variable) are both set; set one") }
        return try readSecretFile(path, variable: file)
    }

    /// Longest secret file read; a token list or a seed is far shorter, and `/dev/zero` must not hang start-up.
    package static let maxSecretFileSize = 64 * 1024

    /// The contents of a secret file (`--token-file`, `TOKEN_FILE`, `--dev-key-seed-file`,
    /// `DEV_KEY_SEED_FILE`), trimmed of surrounding whitespace such as the trailing newline most
    /// editors and `echo` leave.
    ///
    /// Secrets belong in files or the environment: command-line arguments are readable by every local
    /// user in `/proc/<pid>/cmdline`.
    /// - Parameter variable: named in the error; the contents never are.
    /// - Throws: `ConfigurationError` if the file cannot be read, is larger than `maxSecretFileSize`,
    ///   is not UTF-8, or holds only whitespace.
    package static func readSecretFile(_ path: String, variable: String) throws(ConfigurationError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .invalid(variable, "names a file that cannot be read: \(path) (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .invalid(variable, "names a file that cannot be read: \(path) (\(String(cString: strerror(errno))))")
            }
            if count == 0 { break }
            contents.append(contentsOf: chunk[..<count])
            guard contents.count <= maxSecretFileSize else {
                throw .invalid(variable, "names a file larger than \(maxSecretFileSize) bytes: \(path)")
            }
        }
        guard let text = String(validating: contents, as: UTF8.self) else {
            throw .invalid(variable, "names a file that is not UTF-8 text: \(path)")
        }
        let secret = text.trimmingWhitespace()
        guard !secret.isEmpty else { throw .invalid(variable, "names an empty file: \(path)") }
        return secret
    }

    /// `TOKEN` may hold a comma-separated list; blanks are trimmed and empty entries ignored
    /// (docs/API.md, Authentication).
    package static func parseTokens(_ raw: String) -> [String] {
        raw.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// `SIGNING_MODE` / `--signing-mode`: `eager` or `lazy`, any case.
    package static func parseSigningMode(_ raw: String) throws(ConfigurationError) -> SigningMode {
        guard let mode = SigningMode(rawValue: raw.trimmingWhitespace().lowercased()) else {
            throw .invalid("SIGNING_MODE", "must be 'eager' or 'lazy'")
        }
        return mode
    }

    /// `1`, `true`, `yes` (any case) mean on.
    package static func flag(_ raw: String?) -> Bool {
        guard let raw else { return false }
        return ["1", "true", "yes", "on"].contains(raw.lowercased())
    }

    /// The vLLM backends: `VLLM_BACKEND_URLS` (else `VLLM_BASE_URL`) as the default pool, and the model routes.
    package var backendLayout: BackendLayout {
        BackendLayout(defaultURLs: backendURLs.isEmpty ? [upstreamBase] : backendURLs, routes: modelBackends)
    }

    /// The upstream base URL without a trailing slash.
    package var upstreamBase: String {
        var base = upstream
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
