/// The streamed-routes phase: chat, Responses and Messages streams through the same targets in the same
/// rounds, so each route's added latency can be set against chat's.
struct StreamedRoutesFigures: Codable, Sendable {
    /// What was measured, in words.
    var method: String
    /// Keyed by route: `chat`, `responses`, `messages`.
    var routes: [String: Route]
    /// One streamed exchange per route through the eager signing-proxy, its signatures checked with the
    /// SigningProxyVerifier library.
    var verification: VerificationFigures

    /// One route's figures.
    struct Route: Codable, Sendable {
        var path: String
        /// Complete SSE events per stream, fast upstream (direct), and per paced stream.
        var eventsPerStreamFast: Double
        var eventsPerStreamPaced: Double
        /// Keyed by target: `direct`, `signing-proxy`, `nginx`.
        var targets: [String: Target]
        /// Target minus direct, keyed by `signing-proxy` and `nginx`.
        var added: [String: Added]
        /// This route's added figures (and the proxy's CPU per 1 000 events) over chat's, same target and run
        /// (chat's own are 1), keyed by target.
        var addedRatioToChat: [String: [String: Double?]]
        /// signing-proxy's added figure over nginx's, this route.
        var addedRatioSigningProxyToNginx: [String: Double?]
    }

    /// One target on one route.
    struct Target: Codable, Sendable {
        /// c=1, fast upstream: request written to the end of the stream.
        var streamLatencyC1: Percentiles
        /// c=1, fast upstream: request written to the first complete SSE event.
        var timeToFirstEventC1: Percentiles
        /// Paced streams (the paced-stream phase's upstream and concurrency): time to first event and gaps.
        var pacedTimeToFirstEvent: Percentiles
        var pacedInterEventGap: Percentiles
        var pacedEvents: Int
        /// CPU of the serving process(es) per 1 000 SSE events, paced streams (warm-up included).
        var cpuMillisecondsPer1000Events: Double
        /// Failed connections and non-200 answers.
        var errors: Int
    }

    /// What a proxy adds to direct on one route (microseconds).
    struct Added: Codable, Sendable {
        var streamLatencyP50Microseconds: Double
        var streamLatencyP99Microseconds: Double
        var timeToFirstEventC1P50Microseconds: Double
        var pacedTimeToFirstEventP50Microseconds: Double
        var pacedTimeToFirstEventP99Microseconds: Double
        var pacedInterEventGapP99Microseconds: Double
    }
}

extension StreamedRoutesFigures {
    /// Added figures (target minus direct) and their ratios to chat's and to nginx's, from the samples of
    /// each route (keyed by route, then target).
    init(samples: [StreamRoute: [String: RouteAccumulator]], method: String, verification: VerificationFigures) {
        var routes: [String: Route] = [:]
        for route in StreamRoute.allCases {
            let targets = (samples[route] ?? [:]).mapValues(\.figures)
            var added: [String: Added] = [:]
            if let direct = targets[Servers.direct] {
                for (name, target) in targets where name != Servers.direct {
                    added[name] = Added(
                        streamLatencyP50Microseconds: target.streamLatencyC1.p50Microseconds - direct.streamLatencyC1.p50Microseconds,
                        streamLatencyP99Microseconds: target.streamLatencyC1.p99Microseconds - direct.streamLatencyC1.p99Microseconds,
                        timeToFirstEventC1P50Microseconds: target.timeToFirstEventC1.p50Microseconds - direct.timeToFirstEventC1.p50Microseconds,
                        pacedTimeToFirstEventP50Microseconds: target.pacedTimeToFirstEvent.p50Microseconds - direct.pacedTimeToFirstEvent.p50Microseconds,
                        pacedTimeToFirstEventP99Microseconds: target.pacedTimeToFirstEvent.p99Microseconds - direct.pacedTimeToFirstEvent.p99Microseconds,
                        pacedInterEventGapP99Microseconds: target.pacedInterEventGap.p99Microseconds - direct.pacedInterEventGap.p99Microseconds
                    )
                }
            }
            let events = samples[route]?[Servers.direct]?.eventsPerStream ?? (fast: 0, paced: 0)
            routes[route.rawValue] = Route(
                path: route.path, eventsPerStreamFast: events.fast, eventsPerStreamPaced: events.paced,
                targets: targets, added: added, addedRatioToChat: [:],
                addedRatioSigningProxyToNginx: Self.ratios(added[Servers.signingProxy], added[Servers.nginx], nil, nil))
        }
        // Ratios to chat once every route's added figures are known.
        if let chat = routes[StreamRoute.chat.rawValue] {
            for (key, route) in routes {
                var byTarget: [String: [String: Double?]] = [:]
                for (name, added) in route.added {
                    byTarget[name] = Self.ratios(
                        added, chat.added[name], route.targets[name]?.cpuMillisecondsPer1000Events,
                        chat.targets[name]?.cpuMillisecondsPer1000Events)
                }
                routes[key]?.addedRatioToChat = byTarget
            }
        }
        self.init(method: method, routes: routes, verification: verification)
    }

    /// `numerator / denominator` for each added figure; a ratio only where the denominator is positive
    /// (an added cost lost in noise is not).
    private static func ratios(_ numerator: Added?, _ denominator: Added?, _ cpu: Double?, _ cpuOfDenominator: Double?) -> [String: Double?] {
        func ratio(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b > 0 else { return nil }
            return a / b
        }
        var result: [String: Double?] = [
            "addedStreamLatencyP50": ratio(numerator?.streamLatencyP50Microseconds, denominator?.streamLatencyP50Microseconds),
            "addedStreamLatencyP99": ratio(numerator?.streamLatencyP99Microseconds, denominator?.streamLatencyP99Microseconds),
            "addedTimeToFirstEventC1P50": ratio(numerator?.timeToFirstEventC1P50Microseconds, denominator?.timeToFirstEventC1P50Microseconds),
            "addedPacedTimeToFirstEventP50": ratio(numerator?.pacedTimeToFirstEventP50Microseconds, denominator?.pacedTimeToFirstEventP50Microseconds),
            "addedPacedTimeToFirstEventP99": ratio(numerator?.pacedTimeToFirstEventP99Microseconds, denominator?.pacedTimeToFirstEventP99Microseconds),
        ]
        if cpu != nil || cpuOfDenominator != nil { result["cpuPer1000Events"] = ratio(cpu, cpuOfDenominator) }
        return result
    }
}
