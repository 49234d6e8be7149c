/// Turns the raw figures into the report: added costs, signing-proxy/nginx ratios and the issue's goals.
struct ReportBuilder {
    let machine: MachineDescription
    let settings: [String: String]
    let crypto: CryptoBaseline
    let figures: [String: PhaseAccumulator]
    let signatures: SignatureLookupFigures
    let lazySignatures: SignatureLookupFigures
    let memory: [String: MemoryFigures]
    let verification: VerificationFigures
    let decomposition: [String: [String: Percentiles]]
    let streamedRoutes: StreamedRoutesFigures?

    func build() -> HarnessReport {
        var targets = figures.mapValues(\.figures)
        // The lazy proxy ran the c=1, c=64 and signature phases only: it gets its own section, not a
        // column of zeros.
        let lazyTarget = targets.removeValue(forKey: Servers.signingProxyLazy)
        var added: [String: AddedFigures] = [:]
        if let direct = targets[Servers.direct] {
            for (name, target) in targets where name != Servers.direct {
                added[name] = AddedFigures(
                    latencyP50Microseconds: target.latencyC1.p50Microseconds - direct.latencyC1.p50Microseconds,
                    latencyP99Microseconds: target.latencyC1.p99Microseconds - direct.latencyC1.p99Microseconds,
                    timeToFirstEventP50Microseconds: target.timeToFirstEvent.p50Microseconds - direct.timeToFirstEvent.p50Microseconds,
                    timeToFirstEventP99Microseconds: target.timeToFirstEvent.p99Microseconds - direct.timeToFirstEvent.p99Microseconds,
                    interEventGapP99Microseconds: target.interEventGap.p99Microseconds - direct.interEventGap.p99Microseconds
                )
            }
        }
        let proxy = targets[Servers.signingProxy]
        let nginx = targets[Servers.nginx]
        let proxyAdded = added[Servers.signingProxy]
        let nginxAdded = added[Servers.nginx]
        let proxyMemory = memory[Servers.signingProxy]
        let nginxMemory = memory[Servers.nginx]
        let direct = targets[Servers.direct]
        let lazy = lazyTarget.map { target in
            let addedP50 = direct.map { target.latencyC1.p50Microseconds - $0.latencyC1.p50Microseconds }
            return LazySigningFigures(
                requestsPerSecondC64: target.requestsPerSecondC64, serverCoresC64: target.serverCoresC64,
                loadGeneratorCoresC64: target.loadGeneratorCoresC64, errors: target.errors,
                ratioToEager: ratio(target.requestsPerSecondC64, proxy?.requestsPerSecondC64),
                ratioToNginx: ratio(target.requestsPerSecondC64, nginx?.requestsPerSecondC64),
                addedLatencyP50Microseconds: addedP50,
                addedLatencyP99Microseconds: direct.map { target.latencyC1.p99Microseconds - $0.latencyC1.p99Microseconds },
                addedLatencyP50RatioToNginx: ratio(addedP50, nginxAdded?.latencyP50Microseconds),
                signatureLookups: lazySignatures)
        }
        let ratios: [String: Double?] = [
            "addedLatencyP50": ratio(proxyAdded?.latencyP50Microseconds, nginxAdded?.latencyP50Microseconds),
            "addedLatencyP99": ratio(proxyAdded?.latencyP99Microseconds, nginxAdded?.latencyP99Microseconds),
            "requestsPerSecondC64": ratio(proxy?.requestsPerSecondC64, nginx?.requestsPerSecondC64),
            "requestsPerSecondC64Lazy": lazy?.ratioToNginx,
            "addedLatencyP50Lazy": lazy?.addedLatencyP50RatioToNginx,
            "addedTimeToFirstEventP99": ratio(proxyAdded?.timeToFirstEventP99Microseconds, nginxAdded?.timeToFirstEventP99Microseconds),
            "addedInterEventGapP99": ratio(proxyAdded?.interEventGapP99Microseconds, nginxAdded?.interEventGapP99Microseconds),
            "cpuPer1000Events": ratio(proxy?.cpuMillisecondsPer1000Events, nginx?.cpuMillisecondsPer1000Events),
            "idleResident": ratio(proxyMemory.map { Double($0.idleBytes) }, nginxMemory.map { Double($0.idleBytes) }),
            "largestOpenStreamsResident": ratio(
                proxyMemory?.openStreams.last.map { Double($0.residentBytes) },
                nginxMemory?.openStreams.last.map { Double($0.residentBytes) }),
        ]
        return HarnessReport(
            machine: machine, settings: settings, crypto: crypto, targets: targets, added: added,
            ratiosSigningProxyToNginx: ratios, signatureLookups: signatures, lazySigning: lazy, memory: memory,
            verification: verification, latencyC1ByPath: decomposition, streamedRoutes: streamedRoutes,
            goals: goals(proxyAdded: proxyAdded, added: added, ratios: ratios, memory: proxyMemory, lazy: lazy),
            durationSeconds: 0)
    }

    /// A ratio only where the denominator is a positive figure (an added cost lost in noise is not).
    private func ratio(_ numerator: Double?, _ denominator: Double?) -> Double? {
        guard let numerator, let denominator, denominator > 0 else { return nil }
        return numerator / denominator
    }

    private func goals(
        proxyAdded: AddedFigures?, added: [String: AddedFigures], ratios: [String: Double?], memory: MemoryFigures?,
        lazy: LazySigningFigures?
    ) -> [Goal] {
        func format(_ value: Double?, _ digits: Int = 2) -> String {
            value.map { String(format: "%.\(digits)f", $0) } ?? "n/a"
        }
        var goals: [Goal] = []
        let latencyRatio = ratios["addedLatencyP50"] ?? nil
        goals.append(Goal(
            name: "added latency at c=1 <= 1.5x nginx's (p50; p99 ratio \(format(ratios["addedLatencyP99"] ?? nil)))",
            measured: "\(format(latencyRatio))x", limit: "1.5x", met: latencyRatio.map { $0 <= 1.5 }))
        if let lazy {
            goals.append(Goal(
                name: "same, lazy signing (no signature on the request path)",
                measured: "\(format(lazy.addedLatencyP50RatioToNginx))x (+\(format(lazy.addedLatencyP50Microseconds, 1)) us p50, +\(format(lazy.addedLatencyP99Microseconds, 1)) us p99)",
                limit: "1.5x", met: lazy.addedLatencyP50RatioToNginx.map { $0 <= 1.5 }))
        }
        let rpsRatio = ratios["requestsPerSecondC64"] ?? nil
        goals.append(Goal(
            name: "requests/s at c=64, every response hashed, signed (eager) and stored, >= 0.8x nginx's",
            measured: "\(format(rpsRatio))x", limit: "0.8x", met: rpsRatio.map { $0 >= 0.8 }))
        let lazyRatio = lazy?.ratioToNginx
        goals.append(Goal(
            name: "requests/s at c=64 with signatures computed on first request (lazy), >= 0.8x nginx's",
            measured: lazy.map { "\(format(lazyRatio))x (\(Int($0.requestsPerSecondC64))/s; \(format($0.ratioToEager))x eager)" }
                ?? "not measured",
            limit: "0.8x", met: lazyRatio.map { $0 >= 0.8 }))
        goals.append(Goal(
            name: "signatures/s served by /v1/signature >= 0.9x raw libsecp256k1 signing rate per core (eager: stored signatures)",
            measured: "\(format(signatures.ratioToRawSigningRate))x (\(Int(signatures.lookupsPerSecondC64))/s vs \(Int(signatures.rawSecp256k1PerCore))/s)",
            limit: "0.9x", met: signatures.ratioToRawSigningRate >= 0.9))
        if let lookups = lazy?.signatureLookups {
            goals.append(Goal(
                name: "same, lazy: every first lookup signs ecdsa",
                measured: "\(format(lookups.ratioToRawSigningRate))x (\(Int(lookups.lookupsPerSecondC64))/s vs \(Int(lookups.rawSecp256k1PerCore))/s)",
                limit: "0.9x", met: lookups.ratioToRawSigningRate >= 0.9))
        }
        let ttft = proxyAdded?.timeToFirstEventP99Microseconds
        goals.append(Goal(
            name: "added time to first token p99 <= 100 us", measured: "\(format(ttft, 1)) us", limit: "100 us",
            met: ttft.map { $0 <= 100 }))
        // nginx adds next to nothing per chunk; when its added gap is far above the limit, the run's
        // noise (the upstream's timer jitter, the shared cores) is, and no verdict can be read here.
        let gap = proxyAdded?.interEventGapP99Microseconds
        let noise = abs(added[Servers.nginx]?.interEventGapP99Microseconds ?? 0)
        let resolvable = noise <= 10 * 5
        goals.append(Goal(
            name: "added inter-chunk gap p99 <= 5 us",
            measured: "\(format(gap, 1)) us" + (resolvable ? "" : " (not resolvable: nginx's added gap p99 is \(format(noise, 1)) us)"),
            limit: "5 us",
            met: resolvable ? gap.map { $0 <= 5 } : nil))
        let idle = memory.map { Double($0.idleBytes) / 1e6 }
        goals.append(Goal(
            name: "idle RSS <= 64 MB", measured: "\(format(idle, 1)) MB", limit: "64 MB", met: idle.map { $0 <= 64 }))
        if let largest = memory?.openStreams.last {
            let bytes = largest.extrapolatedBytes ?? Double(largest.residentBytes)
            var note = "\(largest.attempted) connections open, \(largest.streaming) streaming"
            if largest.extrapolatedBytes != nil {
                note += "; \(format(Double(largest.residentBytes) / 1e6, 1)) MB measured, extrapolated per connection"
            }
            goals.append(Goal(
                name: "\(largest.requested) concurrent open streams <= 300 MB RSS",
                measured: "\(format(bytes / 1e6, 1)) MB (\(note))", limit: "300 MB", met: bytes <= 300e6))
        }
        return goals
    }
}
