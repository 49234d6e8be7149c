/// The shared receipt store (Redis) on and off: the same proxy settings in front of the fast upstream, with
/// and without `REDIS_HOST`, measured in back-to-back pairs so that drift on a shared machine hits both sides
/// of a pair alike.
struct SharedStoreFigures: Codable, Sendable {
    /// What was measured, in words.
    var method: String
    /// `redis-server --version`.
    var redisServer: String
    /// Keyed by signing mode: `eager`, `lazy`.
    var modes: [String: Mode]
    /// A stream through the eager proxy with the store, its signatures looked up on the lazy one (another
    /// replica on the same Redis) and checked with the SigningProxyVerifier library.
    var crossReplica: VerificationFigures

    /// One signing mode, store off against store on.
    struct Mode: Codable, Sendable {
        var pairs: [Pair]
        /// Over all slices of each side.
        var requestsPerSecondC64Off: Double
        var requestsPerSecondC64On: Double
        /// On over off, over all slices; and the median, lowest and highest of the pairs' ratios.
        var ratioOnToOff: Double
        var medianPairRatio: Double
        var lowestPairRatio: Double
        var highestPairRatio: Double
        /// Non-streamed completions at c=1: request written to response end.
        var latencyC1Off: Percentiles
        var latencyC1On: Percentiles
        /// What the store adds per completion at c=1 (on minus off, percentile by percentile).
        var addedLatencyC1P50Microseconds: Double
        var addedLatencyC1P99Microseconds: Double
        /// Per-request latency at c=64 (queueing included).
        var latencyC64Off: Percentiles
        var latencyC64On: Percentiles
        /// Cores of the proxy, and of redis-server, during the c=64 slices.
        var serverCoresC64Off: Double
        var serverCoresC64On: Double
        var redisCoresC64: Double
        /// Proxy CPU per completion at c=64 (its cores over its requests/s; redis-server's own apart), µs.
        var proxyCPUMicrosecondsPerRequestOff: Double
        var proxyCPUMicrosecondsPerRequestOn: Double
        var redisCPUMicrosecondsPerRequest: Double
        /// The store proxy's `signing_proxy_shared_store_*` counters after the phase (writes, timeouts, errors).
        var storeCounters: [String: Double]
        /// Failed connections and non-200 answers, both sides.
        var errors: Int
    }

    /// One back-to-back pair.
    struct Pair: Codable, Sendable {
        /// `off,on` or `on,off`.
        var order: String
        var requestsPerSecondC64Off: Double
        var requestsPerSecondC64On: Double
        var ratio: Double
        var latencyC1P50Off: Double
        var latencyC1P50On: Double
    }
}

/// The samples of one signing mode's pairs, turned into ``SharedStoreFigures/Mode``.
struct SharedStoreAccumulator: Sendable {
    struct Side: Sendable {
        var latency = WorkerSamples()
        var throughput = WorkerSamples()
        var seconds = 0.0
        var serverCores: [Double] = []
    }

    var off = Side()
    var on = Side()
    var redisCores: [Double] = []
    var pairs: [SharedStoreFigures.Pair] = []

    func figures(storeCounters: [String: Double]) -> SharedStoreFigures.Mode {
        let rpsOff = off.seconds > 0 ? Double(off.throughput.completed) / off.seconds : 0
        let rpsOn = on.seconds > 0 ? Double(on.throughput.completed) / on.seconds : 0
        let ratios = pairs.map(\.ratio).sorted()
        let median: Double
        if ratios.isEmpty {
            median = 0
        } else if ratios.count % 2 == 1 {
            median = ratios[ratios.count / 2]
        } else {
            median = (ratios[ratios.count / 2 - 1] + ratios[ratios.count / 2]) / 2
        }
        let c1Off = Percentiles(off.latency.latencies)
        let c1On = Percentiles(on.latency.latencies)
        return SharedStoreFigures.Mode(
            pairs: pairs,
            requestsPerSecondC64Off: rpsOff, requestsPerSecondC64On: rpsOn,
            ratioOnToOff: rpsOff > 0 ? rpsOn / rpsOff : 0,
            medianPairRatio: median, lowestPairRatio: ratios.first ?? 0, highestPairRatio: ratios.last ?? 0,
            latencyC1Off: c1Off, latencyC1On: c1On,
            addedLatencyC1P50Microseconds: c1On.p50Microseconds - c1Off.p50Microseconds,
            addedLatencyC1P99Microseconds: c1On.p99Microseconds - c1Off.p99Microseconds,
            latencyC64Off: Percentiles(off.throughput.latencies), latencyC64On: Percentiles(on.throughput.latencies),
            serverCoresC64Off: Self.mean(off.serverCores), serverCoresC64On: Self.mean(on.serverCores),
            redisCoresC64: Self.mean(redisCores),
            proxyCPUMicrosecondsPerRequestOff: rpsOff > 0 ? Self.mean(off.serverCores) / rpsOff * 1e6 : 0,
            proxyCPUMicrosecondsPerRequestOn: rpsOn > 0 ? Self.mean(on.serverCores) / rpsOn * 1e6 : 0,
            redisCPUMicrosecondsPerRequest: rpsOn > 0 ? Self.mean(redisCores) / rpsOn * 1e6 : 0,
            storeCounters: storeCounters,
            errors: [off.latency, off.throughput, on.latency, on.throughput].reduce(0) { $0 + $1.errors + $1.badStatus })
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
