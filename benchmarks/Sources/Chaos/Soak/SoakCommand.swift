import ArgumentParser
import Foundation
import HarnessSupport

/// `chaos soak`: many mixed clients against one release proxy, every stream judged, RSS followed.
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Chaos soak: mixed concurrent streams against signing-proxy; every signature judged.",
        discussion: """
            Starts mock-vllm (--request-faults, --request-log) and signing-proxy (dev keys, eager signing by \
            default, a short CHAT_CACHE_EXPIRATION) on 127.0.0.1, then runs --clients client threads until \
            --seconds or --max-streams is reached. Clients mix plain, paced, abandoned, upstream-cut, \
            slow-reading (Connection: close and HTTP/1.0) streams and JSON answers with malformed and \
            smuggling-shaped requests. Every stream is judged: verified, wrong, missing, \
            signed_but_undelivered, unsigned_as_expected, no_id or lookup_failed. RSS is sampled every second \
            and measured again once the store's TTL has passed. Exits 1 when any signature is wrong, missing \
            (or published late), or signed but undelivered, or when a client got an answer meant for another request.
            """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Seconds of load (bounded: 10...1800).")
    var seconds = 180.0

    @Option(help: "Most streams started (bounded: 100...10000000).")
    var maxStreams = 400_000

    @Option(help: "Client threads (bounded: 1...512), slow readers included.")
    var clients = 56

    @Option(help: "Of the clients, those that run only slow readers (large answers, read slowly).")
    var slowClients = 8

    @Option(help: "CHAT_CACHE_EXPIRATION for the proxy, seconds (at least 10: longer than a slow read); RSS is measured again after it.")
    var ttl = 30

    @Option(help: "SIGNING_MODE of the proxy: eager or lazy.")
    var signingMode = "eager"

    @Option(help: "Seed of the mix.")
    var seed: UInt64 = 20_261_207

    @Option(help: "Tokens of the large streams slow readers get (about 215 bytes each: 20000 ≈ 4.3 MB).")
    var slowStreamTokens = 20_000

    @Option(help: "Tokens of the large JSON answers slow readers get (about 4.6 bytes each: 650000 ≈ 3 MB).")
    var slowJSONTokens = 650_000

    @Option(help: "Receive buffer of a slow reader, bytes.")
    var slowReceiveBuffer = 4_096

    @Option(help: "Most bytes a slow reader takes per read.")
    var slowReadBytes = 1_024

    @Option(help: "Milliseconds a slow reader sleeps between reads.")
    var slowPauseMs = 1

    @Option(help: "RSS after the TTL counts as near idle within this many MB over idle.")
    var nearIdleMB = 16.0

    @Option(help: "Where the JSON goes.")
    var output = "benchmarks/results/soak-latest.json"

    func validate() throws {
        guard (10...1800).contains(seconds) else { throw ValidationError("--seconds must be 10...1800") }
        guard (100...10_000_000).contains(maxStreams) else { throw ValidationError("--max-streams must be 100...10000000") }
        guard (1...512).contains(clients) else { throw ValidationError("--clients must be 1...512") }
        guard (0...clients).contains(slowClients) else { throw ValidationError("--slow-clients must be 0...--clients") }
        guard (1...(1 << 20)).contains(slowReadBytes) else { throw ValidationError("--slow-read-bytes must be 1...1048576") }
        // A slow reader takes seconds over its 3 MB; a shorter TTL would expire its record before it asks.
        guard (10...600).contains(ttl) else { throw ValidationError("--ttl must be 10...600") }
        guard ["eager", "lazy"].contains(signingMode) else { throw ValidationError("--signing-mode must be eager or lazy") }
        guard (1...200_000).contains(slowStreamTokens), (1...2_000_000).contains(slowJSONTokens) else {
            throw ValidationError("slow answer sizes out of bounds")
        }
        guard (0...1000).contains(slowPauseMs) else { throw ValidationError("--slow-pause-ms must be 0...1000") }
        try common.validate()
    }

    func run() async throws {
        let began = ContinuousClock.now
        let fileLimit = FileLimit.raiseToHardLimit()
        let fleet = try Fleet(binDir: common.binDir, mockBinDir: common.mockBinDir, proxyEnvironment: try common.environment())
        var report = SoakReport()
        report.startedAt = ISO8601DateFormatter().string(from: Date())
        report.binDir = common.binDir
        report.settings = [
            "seconds": "\(seconds)", "maxStreams": "\(maxStreams)", "clients": "\(clients)", "ttlSeconds": "\(ttl)",
            "signingMode": signingMode, "seed": "\(seed)", "slowStreamTokens": "\(slowStreamTokens)",
            "slowJSONTokens": "\(slowJSONTokens)", "slowReceiveBuffer": "\(slowReceiveBuffer)",
            "slowClients": "\(slowClients)", "slowReadBytes": "\(slowReadBytes)",
            "slowPauseMs": "\(slowPauseMs)", "openFileLimit": "\(fileLimit)",
            "proxyEnvironment": common.proxyEnv.joined(separator: " "),
            "kinds": SoakKind.allCases.map { "\($0.rawValue)=\($0.weight)" }.joined(separator: " "),
        ]
        do {
            try await soak(fleet: fleet, report: &report)
        } catch {
            await fleet.stopAll()
            fleet.cleanUp(keep: true)
            throw error
        }
        await fleet.stopAll()
        fleet.cleanUp(keep: common.keepLogs || !report.pass)
        report.durationSeconds = (ContinuousClock.now - began).seconds
        try writeJSON(report, to: output)
        print(report.table())
        if !report.pass { throw ExitCode(1) }
    }

    private func soak(fleet: Fleet, report: inout SoakReport) async throws {
        let upstream = try await fleet.mock(
            "soak", ["--tokens", "2000000", "--max-model-len", "2000000", "--request-faults"])
        let proxy = try await fleet.proxy(
            "soak", upstreamPort: upstream.port,
            environment: ["CHAT_CACHE_EXPIRATION": "\(ttl)", "SIGNING_MODE": signingMode])
        let port = proxy.port
        chaosLog("mock-vllm on \(upstream.port), signing-proxy on \(port) (pid \(proxy.pid)); idle for 2 s")
        try await Task.sleep(for: .seconds(2))
        report.memory.idleBytes = ProcessProbe.residentBytes(proxy.pid) ?? 0
        let sampler = RSSSampler(pid: proxy.pid)

        let checker = SignatureChecker(port: port, token: Fleet.token, ecdsaAddress: Fleet.signingAddress(of: proxy))
        let loadStart = ContinuousClock.now
        let state = SoakState(
            settings: .init(
                proxyPort: port, token: Fleet.token, deadline: loadStart + .milliseconds(Int64(seconds * 1000)),
                maxStreams: maxStreams, seed: seed, slowStreamTokens: slowStreamTokens, slowJSONTokens: slowJSONTokens,
                slowClients: slowClients, slowReceiveBuffer: slowReceiveBuffer, slowReadBytes: slowReadBytes,
                slowPause: .milliseconds(slowPauseMs),
                streamBound: .seconds(60), malformedBound: .seconds(5), undeliveredCheckDelay: .milliseconds(1500)),
            checker: checker)
        chaosLog("load: \(clients) clients for \(seconds) s or \(maxStreams) streams")
        let progress = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(15))
                let count = state.started.load(ordering: .relaxed)
                let rss = ProcessProbe.residentBytes(proxy.pid) ?? 0
                chaosLog("  \(Int((ContinuousClock.now - loadStart).seconds)) s: \(count) streams started, proxy RSS \(rss >> 20) MB")
            }
        }
        let clients = clients
        await Task.detached {
            onThreads(clients) { index in
                var worker = SoakWorker(index: index, state: state)
                worker.run()
            }
        }.value
        progress.cancel()
        report.loadSeconds = (ContinuousClock.now - loadStart).seconds
        try await Task.sleep(for: .seconds(2))
        report.memory.afterLoadBytes = ProcessProbe.residentBytes(proxy.pid) ?? 0

        chaosLog("load done; waiting for the TTL (\(ttl) s) to pass, then one completion so the store purges")
        try await Task.sleep(for: .seconds(ttl + 3))
        _ = ProxyProbe.completion(port: port, token: Fleet.token, content: "after ttl")
        try await Task.sleep(for: .seconds(3))
        report.memory.afterTTLBytes = ProcessProbe.residentBytes(proxy.pid) ?? 0
        sampler.stop()
        report.memory.series = sampler.series
        report.memory.peakBytes = max(sampler.peak, report.memory.afterLoadBytes)
        report.proxyMetrics = ProxyProbe.metrics(port: port)
        report.signingAddresses = checker.addresses

        let records = state.records.withLock { $0 }
        summarize(records, state: state, upstream: upstream, into: &report)
    }

    private func summarize(_ records: [StreamRecord], state: SoakState, upstream: Fleet.Upstream, into report: inout SoakReport) {
        report.streams = records.count + state.malformed.withLock { $0.values.reduce(0) { $0 + $1.runs } }
        var totals: [String: Int] = ["streams": records.count, "completed": 0]
        var byKind: [String: SoakReport.KindFigures] = [:]
        var examples: [String: [StreamRecord]] = [:]
        for record in records {
            var figures = byKind[record.kind.rawValue] ?? .init()
            figures.streams += 1
            if record.completed { figures.completed += 1 }
            figures.verdicts[record.verdict.rawValue, default: 0] += 1
            byKind[record.kind.rawValue] = figures
            if record.completed { totals["completed", default: 0] += 1 }
            totals[record.verdict.rawValue, default: 0] += 1
            let shouldComplete = [.stream, .json, .pacedStream, .slowCloseStream, .slowCloseJSON, .slowHTTP10Stream, .slowHTTP10JSON]
                .contains(record.kind)
            if shouldComplete && !record.completed {
                report.expectedCompleteButIncomplete += 1
                if examples["incomplete", default: []].count < 10 { examples["incomplete", default: []].append(record) }
            }
            if [.wrong, .missing, .publishedLate, .signedButUndelivered, .lookupFailed].contains(record.verdict),
                examples[record.verdict.rawValue, default: []].count < 10
            {
                examples[record.verdict.rawValue, default: []].append(record)
            }
        }
        report.totals = totals
        report.byKind = byKind
        report.malformed = state.malformed.withLock { $0 }
        report.duplicateIDs = state.duplicateIDs.load(ordering: .relaxed)

        // Each complete answer's id must be the one the upstream gave to this very request body.
        let logged = upstream.requests()
        report.upstreamRequestsLogged = logged.count
        var bodyByID: [String: String] = [:]
        for entry in logged { if let id = entry.id, let hash = entry.bodyFNV1a64 { bodyByID[id] = hash } }
        for record in records where record.completed && record.status == 200 {
            guard let id = record.id else { continue }
            guard let hash = bodyByID[id] else {
                report.idsUnknownToUpstream += 1
                continue
            }
            if hash != record.requestFNV {
                report.answersForAnotherRequest += 1
                if examples["foreign", default: []].count < 10 { examples["foreign", default: []].append(record) }
            }
        }
        report.examples = examples.keys.sorted().flatMap { examples[$0] ?? [] }

        let tolerance = Int(nearIdleMB * 1_048_576)
        report.memory.nearIdleToleranceBytes = tolerance
        report.memory.afterTTLOverIdleBytes = report.memory.afterTTLBytes - report.memory.idleBytes
        report.memory.returnedNearIdle = report.memory.afterTTLOverIdleBytes <= tolerance

        for verdict in [SignatureVerdict.wrong, .missing, .publishedLate, .signedButUndelivered] where (totals[verdict.rawValue] ?? 0) > 0 {
            report.failures.append("\(totals[verdict.rawValue] ?? 0) \(verdict.rawValue)")
        }
        if report.answersForAnotherRequest > 0 { report.failures.append("\(report.answersForAnotherRequest) answers for another request") }
        if report.duplicateIDs > 0 { report.failures.append("\(report.duplicateIDs) ids given to two clients") }
        let foreignMalformed = report.malformed.values.reduce(0) { $0 + $1.foreignAnswers }
        if foreignMalformed > 0 { report.failures.append("\(foreignMalformed) foreign answers to malformed requests") }
    }
}
