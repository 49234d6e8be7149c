import Foundation

/// The report as a plain-text table for the terminal (and for RESULTS.md).
enum ReportTable {
    static func render(_ report: HarnessReport) -> String {
        let names = [Servers.direct, Servers.signingProxy, Servers.nginx].filter { report.targets[$0] != nil }
        func f(_ value: Double?, _ digits: Int = 1) -> String {
            value.map { String(format: "%.\(digits)f", $0) } ?? "n/a"
        }
        func row(_ label: String, _ values: [String]) -> String {
            label.padding(toLength: 44, withPad: " ", startingAt: 0)
                + values.map { $0.leftPadded(to: 16) }.joined()
        }
        var lines: [String] = []
        let machine = report.machine
        lines.append("signing-proxy load harness, \(machine.startedAt)")
        lines.append(
            "machine: \(machine.cpuModel), \(machine.logicalCPUs) CPUs (\(machine.cpuFlagsOfNote.joined(separator: " "))), "
                + "\(machine.memoryBytes >> 30) GiB, \(machine.kernel)")
        lines.append("load average: start \(machine.loadAverageAtStart); end \(machine.loadAverageAtEnd)")
        lines.append("")
        if report.targets.isEmpty {
            // --streams-only or --store-only: nothing else was measured.
            if let routes = report.streamedRoutes { lines += streamedRoutes(routes) }
            if let store = report.sharedStore { lines += sharedStore(store) }
            lines.append(String(format: "run took %.0f s", report.durationSeconds))
            return lines.joined(separator: "\n")
        }
        lines.append(row("", names))
        let t = names.map { report.targets[$0]! }
        lines.append(row("latency c=1 p50 (us)", t.map { f($0.latencyC1.p50Microseconds) }))
        lines.append(row("latency c=1 p99 (us)", t.map { f($0.latencyC1.p99Microseconds) }))
        lines.append(row("requests/s c=64", t.map { f($0.requestsPerSecondC64, 0) }))
        lines.append(row("  server cores at c=64", t.map { f($0.serverCoresC64, 2) }))
        lines.append(row("  load generator cores at c=64", t.map { f($0.loadGeneratorCoresC64, 2) }))
        lines.append(row("time to first event p50 (us)", t.map { f($0.timeToFirstEvent.p50Microseconds) }))
        lines.append(row("time to first event p99 (us)", t.map { f($0.timeToFirstEvent.p99Microseconds) }))
        lines.append(row("inter-event gap p50 (us)", t.map { f($0.interEventGap.p50Microseconds) }))
        lines.append(row("inter-event gap p99 (us)", t.map { f($0.interEventGap.p99Microseconds) }))
        lines.append(row("CPU ms per 1000 events (server)", t.map { f($0.cpuMillisecondsPer1000Events, 2) }))
        lines.append(row("errors", t.map { "\($0.errors)" }))
        lines.append("")
        let added = names.dropFirst().compactMap { name in report.added[name].map { (name, $0) } }
        lines.append(row("added to direct", added.map(\.0)))
        lines.append(row("added latency p50 (us)", added.map { f($0.1.latencyP50Microseconds) }))
        lines.append(row("added latency p99 (us)", added.map { f($0.1.latencyP99Microseconds) }))
        lines.append(row("added TTFT p50 (us)", added.map { f($0.1.timeToFirstEventP50Microseconds) }))
        lines.append(row("added TTFT p99 (us)", added.map { f($0.1.timeToFirstEventP99Microseconds) }))
        lines.append(row("added inter-event gap p99 (us)", added.map { f($0.1.interEventGapP99Microseconds) }))
        lines.append("")
        for path in report.latencyC1ByPath.keys.sorted() {
            let byTarget = report.latencyC1ByPath[path] ?? [:]
            lines.append(row("GET \(path) c=1 p50 (us)", names.map { f(byTarget[$0]?.p50Microseconds) }))
            lines.append(row("GET \(path) c=1 p99 (us)", names.map { f(byTarget[$0]?.p99Microseconds) }))
        }
        if let routes = report.streamedRoutes {
            lines.append("")
            lines += streamedRoutes(routes)
        }
        lines.append("")
        lines.append("memory (MB)")
        for name in names.dropFirst() {
            guard let memory = report.memory[name] else { continue }
            var parts = ["idle \(f(Double(memory.idleBytes) / 1e6))"]
            if let after = memory.idleAfterLoadBytes { parts.append("idle after load \(f(Double(after) / 1e6))") }
            for open in memory.openStreams {
                var part = "\(open.attempted) open, \(open.streaming) streaming: \(f(Double(open.residentBytes) / 1e6))"
                if let extrapolated = open.extrapolatedBytes { part += " (-> \(open.requested): \(f(extrapolated / 1e6)))" }
                parts.append(part)
            }
            lines.append("  \(name): " + parts.joined(separator: "; "))
        }
        let s = report.signatureLookups
        lines.append("")
        lines.append(
            "GET /v1/signature at c=64: \(f(s.lookupsPerSecondC64, 0))/s over \(s.ids) ids (\(s.signingMode)); "
                + "libsecp256k1 raw: \(f(s.rawSecp256k1PerCore, 0))/s per core; ratio \(f(s.ratioToRawSigningRate, 2))")
        if let lazy = report.lazySigning {
            let eager = report.targets[Servers.signingProxy]?.requestsPerSecondC64
            let nginx = report.targets[Servers.nginx]?.requestsPerSecondC64
            let l = lazy.signatureLookups
            lines.append("lazy signing (SIGNING_MODE=lazy, fast upstream; c=1, c=64 and /v1/signature phases only):")
            lines.append(
                "  added latency c=1: p50 +\(f(lazy.addedLatencyP50Microseconds, 1)) us, p99 +\(f(lazy.addedLatencyP99Microseconds, 1)) us "
                    + "(\(f(lazy.addedLatencyP50RatioToNginx, 2))x nginx's p50)")
            lines.append(
                "  requests/s c=64: \(f(lazy.requestsPerSecondC64, 0)) (eager \(f(eager, 0)): \(f(lazy.ratioToEager, 2))x; "
                    + "nginx \(f(nginx, 0)): \(f(lazy.ratioToNginx, 2))x); server cores \(f(lazy.serverCoresC64, 2)); "
                    + "load generator cores \(f(lazy.loadGeneratorCoresC64, 2)); errors \(lazy.errors)")
            lines.append(
                "  GET /v1/signature at c=64 over \(l.ids) ids: first lookups (each signs ecdsa) \(f(l.lookupsPerSecondC64, 0))/s, "
                    + "ratio \(f(l.ratioToRawSigningRate, 2)) to raw; repeat lookups (cached) \(f(l.repeatLookupsPerSecondC64, 0))/s; "
                    + "errors \(l.errors)")
        }
        if let store = report.sharedStore {
            lines.append("")
            lines += sharedStore(store)
        }
        let c = report.crypto
        lines.append(
            "one core: SHA-256 \(f(c.sha256MBps200B, 0)) MB/s (200 B updates), \(f(c.sha256MBps1MiB, 0)) MB/s (1 MiB); "
                + "ExchangeSigner \(f(c.exchangeSignaturesPerSecond, 0))/s")
        lines.append("signatures checked with SigningProxyVerifier: \(report.verification.signaturesVerified) (\(report.verification.detail))")
        lines.append("")
        lines.append("ratios signing-proxy / nginx:")
        for (key, value) in report.ratiosSigningProxyToNginx.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(key): \(f(value ?? nil, 2))")
        }
        lines.append("")
        lines.append("goals:")
        for goal in report.goals {
            let verdict = goal.met.map { $0 ? "MET" : "NOT MET" } ?? "n/a"
            lines.append("  [\(verdict)] \(goal.name): \(goal.measured) (limit \(goal.limit))")
        }
        lines.append("")
        lines.append("openssl speed -evp sha256:")
        lines.append(c.opensslSpeed)
        lines.append(String(format: "run took %.0f s", report.durationSeconds))
        return lines.joined(separator: "\n")
    }
}

extension ReportTable {
    /// The streamed-routes phase: per route, what each proxy adds and that over chat's.
    static func streamedRoutes(_ figures: StreamedRoutesFigures) -> [String] {
        func f(_ value: Double?, _ digits: Int = 1) -> String {
            value.map { String(format: "%.\(digits)f", $0) } ?? "n/a"
        }
        func row(_ label: String, _ values: [String]) -> String {
            label.padding(toLength: 48, withPad: " ", startingAt: 0) + values.map { $0.leftPadded(to: 12) }.joined()
        }
        let routes = StreamRoute.allCases.compactMap { route in figures.routes[route.rawValue].map { (route.rawValue, $0) } }
        var lines = ["streamed routes (c=1 fast upstream; paced at the paced phase's concurrency)"]
        lines.append(row("", routes.map(\.0)))
        lines.append(row("events per stream (fast / paced)", routes.map { "\(f($0.1.eventsPerStreamFast, 0))/\(f($0.1.eventsPerStreamPaced, 0))" }))
        for name in [Servers.direct, Servers.signingProxy, Servers.nginx] where routes.contains(where: { $0.1.targets[name] != nil }) {
            lines.append(row("\(name): stream c=1 p50 (us)", routes.map { f($0.1.targets[name]?.streamLatencyC1.p50Microseconds) }))
            lines.append(row("\(name): CPU ms per 1000 events", routes.map { f($0.1.targets[name]?.cpuMillisecondsPer1000Events, 2) }))
        }
        for name in [Servers.signingProxy, Servers.nginx] where routes.contains(where: { $0.1.added[name] != nil }) {
            let added = routes.map { $0.1.added[name] }
            let ratios = routes.map { $0.1.addedRatioToChat[name] ?? [:] }
            lines.append(row("\(name): added stream c=1 p50 (us)", added.map { f($0?.streamLatencyP50Microseconds) }))
            lines.append(row("\(name): added stream c=1 p99 (us)", added.map { f($0?.streamLatencyP99Microseconds) }))
            lines.append(row("\(name): added first event c=1 p50 (us)", added.map { f($0?.timeToFirstEventC1P50Microseconds) }))
            lines.append(row("\(name): added paced TTFT p50 (us)", added.map { f($0?.pacedTimeToFirstEventP50Microseconds) }))
            lines.append(row("\(name): added paced TTFT p99 (us)", added.map { f($0?.pacedTimeToFirstEventP99Microseconds) }))
            lines.append(row("\(name): added gap p99 (us)", added.map { f($0?.pacedInterEventGapP99Microseconds) }))
            lines.append(row("\(name): added stream p50 / chat's", ratios.map { f($0["addedStreamLatencyP50"] ?? nil, 2) }))
            lines.append(row("\(name): added stream p99 / chat's", ratios.map { f($0["addedStreamLatencyP99"] ?? nil, 2) }))
            lines.append(row("\(name): CPU per event / chat's", ratios.map { f($0["cpuPer1000Events"] ?? nil, 2) }))
        }
        lines.append(row("signing-proxy added stream p50 / nginx's", routes.map { f($0.1.addedRatioSigningProxyToNginx["addedStreamLatencyP50"] ?? nil, 2) }))
        lines.append("signatures checked per route: \(figures.verification.signaturesVerified) (\(figures.verification.detail))")
        return lines
    }
}

extension ReportTable {
    /// The shared receipt store phase: each signing mode off and on, the pairs' ratios, the added latency.
    static func sharedStore(_ figures: SharedStoreFigures) -> [String] {
        func f(_ value: Double, _ digits: Int = 1) -> String {
            String(format: "%.\(digits)f", value)
        }
        var lines = ["shared receipt store (\(figures.redisServer)) off / on, fast upstream, back-to-back pairs:"]
        for mode in ["eager", "lazy"] {
            guard let m = figures.modes[mode] else { continue }
            lines.append(
                "  \(mode): requests/s c=64 \(f(m.requestsPerSecondC64Off, 0)) / \(f(m.requestsPerSecondC64On, 0)) "
                    + "(on/off \(f(m.ratioOnToOff, 2)); pairs: median \(f(m.medianPairRatio, 2)), "
                    + "\(f(m.lowestPairRatio, 2))-\(f(m.highestPairRatio, 2)): "
                    + m.pairs.map { "\(f($0.ratio, 2))" }.joined(separator: " ") + ")")
            lines.append(
                "    latency c=1 p50 \(f(m.latencyC1Off.p50Microseconds)) / \(f(m.latencyC1On.p50Microseconds)) us, "
                    + "p99 \(f(m.latencyC1Off.p99Microseconds)) / \(f(m.latencyC1On.p99Microseconds)) us: the store adds "
                    + "\(f(m.addedLatencyC1P50Microseconds)) us p50, \(f(m.addedLatencyC1P99Microseconds)) us p99 per completion")
            lines.append(
                "    latency c=64 p50 \(f(m.latencyC64Off.p50Microseconds)) / \(f(m.latencyC64On.p50Microseconds)) us, "
                    + "p99 \(f(m.latencyC64Off.p99Microseconds)) / \(f(m.latencyC64On.p99Microseconds)) us; "
                    + "proxy cores \(f(m.serverCoresC64Off, 2)) / \(f(m.serverCoresC64On, 2)), redis-server \(f(m.redisCoresC64, 2)); "
                    + "errors \(m.errors)")
            lines.append(
                "    CPU per completion at c=64: proxy \(f(m.proxyCPUMicrosecondsPerRequestOff, 0)) / "
                    + "\(f(m.proxyCPUMicrosecondsPerRequestOn, 0)) us, redis-server \(f(m.redisCPUMicrosecondsPerRequest, 0)) us")
            let counters = m.storeCounters.sorted { $0.key < $1.key }
                .map { "\($0.key.replacingOccurrences(of: "signing_proxy_shared_store_", with: "")) \(f($0.value, 0))" }
            lines.append("    store counters: " + (counters.isEmpty ? "none in /metrics" : counters.joined(separator: ", ")))
        }
        lines.append("  across replicas: \(figures.crossReplica.signaturesVerified) signatures (\(figures.crossReplica.detail))")
        return lines
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? " " + self : String(repeating: " ", count: width - count) + self
    }
}
