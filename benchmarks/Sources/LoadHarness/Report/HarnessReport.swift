/// Everything one harness run measured; written as `results/latest.json`.
struct HarnessReport: Codable, Sendable {
    var machine: MachineDescription
    var settings: [String: String]
    var crypto: CryptoBaseline
    /// Keyed by target: `direct`, `signing-proxy`, `nginx`.
    var targets: [String: TargetFigures]
    /// What each proxy adds to going direct, keyed by `signing-proxy` and `nginx`.
    var added: [String: AddedFigures]
    /// signing-proxy's figure divided by nginx's (added latencies, rps, CPU, RSS).
    var ratiosSigningProxyToNginx: [String: Double?]
    var signatureLookups: SignatureLookupFigures
    /// The `SIGNING_MODE=lazy` proxy (fast upstream): the c=64 and `/v1/signature` phases only.
    var lazySigning: LazySigningFigures?
    /// Keyed by `signing-proxy` and `nginx`.
    var memory: [String: MemoryFigures]
    var verification: VerificationFigures
    /// c=1 latency of GET /health (HTTP server alone) and GET /v1/models (plain pass-through), by path
    /// then target: where the completion path's added latency goes.
    var latencyC1ByPath: [String: [String: Percentiles]]
    /// Streamed chat, Responses and Messages in the same rounds: each route's added latency against chat's.
    /// Absent in reports written before the phase existed.
    var streamedRoutes: StreamedRoutesFigures?
    /// The shared receipt store (Redis) on and off, in back-to-back pairs. Absent in reports written before
    /// the phase existed, and with `--redis-server none`.
    var sharedStore: SharedStoreFigures? = nil
    /// The targets, each with the measured value and whether it holds.
    var goals: [Goal]
    var durationSeconds: Double
}

/// One target's figures.
struct TargetFigures: Codable, Sendable {
    /// Non-streamed completion, request written to response end, concurrency 1.
    var latencyC1: Percentiles
    /// Non-streamed completions per second at concurrency 64.
    var requestsPerSecondC64: Double
    /// CPU cores used by the serving process(es) during the c=64 phase (for `direct`, the upstream).
    var serverCoresC64: Double
    /// CPU cores used by the load generator during the c=64 phase (near 1 means it was the bottleneck).
    var loadGeneratorCoresC64: Double
    /// Paced streams: request written to the first complete SSE event.
    var timeToFirstEvent: Percentiles
    /// Paced streams: gaps between consecutive SSE events.
    var interEventGap: Percentiles
    /// SSE events received in the paced-stream phase.
    var pacedEvents: Int
    /// CPU seconds of the serving process(es) per 1 000 SSE events delivered (paced phase). For
    /// `direct` that is the upstream itself; for the proxies it is the proxy alone.
    var cpuMillisecondsPer1000Events: Double
    /// Failed connections and non-200 answers over all phases.
    var errors: Int
}

/// What a proxy adds to the direct figures (microseconds).
struct AddedFigures: Codable, Sendable {
    var latencyP50Microseconds: Double
    var latencyP99Microseconds: Double
    var timeToFirstEventP50Microseconds: Double
    var timeToFirstEventP99Microseconds: Double
    var interEventGapP99Microseconds: Double
}

/// `GET /v1/signature/{id}` throughput against the raw signing rate.
struct SignatureLookupFigures: Codable, Sendable {
    var signingMode: String
    var ids: Int
    /// One lookup per id; in lazy mode each of them signs.
    var lookupsPerSecondC64: Double
    /// A second lookup per id (lazy mode only): reads of the cached signature.
    var repeatLookupsPerSecondC64: Double?
    var rawSecp256k1PerCore: Double
    var ratioToRawSigningRate: Double
    var errors: Int
}

/// The lazy-signing proxy's figures, next to the eager proxy's from the same rounds.
struct LazySigningFigures: Codable, Sendable {
    /// Non-streamed completions per second at concurrency 64 (stored unsigned, in memory only).
    var requestsPerSecondC64: Double
    var serverCoresC64: Double
    var loadGeneratorCoresC64: Double
    /// Failed connections and non-200 answers in the c=64 phase.
    var errors: Int
    /// Lazy requests/s over the eager signing-proxy's.
    var ratioToEager: Double?
    /// Lazy requests/s over nginx's.
    var ratioToNginx: Double?
    /// Added latency at c=1 (lazy proxy minus direct), p50 and p99.
    var addedLatencyP50Microseconds: Double?
    var addedLatencyP99Microseconds: Double?
    /// Lazy added latency p50 over nginx's added latency p50.
    var addedLatencyP50RatioToNginx: Double?
    var signatureLookups: SignatureLookupFigures
}

/// Resident memory of one proxy.
struct MemoryFigures: Codable, Sendable {
    /// Right after start-up, before any request.
    var idleBytes: Int
    /// After the load phases, with no request in flight (the fast-upstream instance).
    var idleAfterLoadBytes: Int?
    var openStreams: [OpenStreamsFigure]
}

/// Resident memory with many streams open at once.
struct OpenStreamsFigure: Codable, Sendable {
    var requested: Int
    /// Capped by the open-file limit: the proxy holds two sockets per stream.
    var attempted: Int
    /// Streams that had a 200 head.
    var withHeaders: Int
    /// Streams that had delivered an SSE event when memory was read.
    var streaming: Int
    var residentBytes: Int
    /// (resident − idle) / attempted: memory per open client connection, streaming or queued.
    var bytesPerConnection: Double?
    /// idle + bytesPerConnection × requested, when the open-file limit let fewer be attempted.
    var extrapolatedBytes: Double?
}

/// Signatures of exchanges made during the run, checked with the SigningProxyVerifier library.
struct VerificationFigures: Codable, Sendable {
    var exchanges: Int
    var signaturesVerified: Int
    var detail: String
}

/// One of the targets.
struct Goal: Codable, Sendable {
    var name: String
    var measured: String
    var limit: String
    var met: Bool?
}
