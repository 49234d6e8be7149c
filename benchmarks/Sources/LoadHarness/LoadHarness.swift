import ArgumentParser
import Foundation
import HarnessSupport
import NIOCore
import NIOPosix

/// `load-harness`: drives mock-vllm directly, through signing-proxy and through nginx, interleaved, and
/// writes the figures as a table and as JSON (`make bench`).
@main
struct LoadHarness: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-harness",
        abstract: "Measure what signing-proxy adds to a fast upstream, side by side with nginx.",
        discussion: """
            Starts three mock-vllm upstreams (fast, paced, slow), one signing-proxy (serve --dev) in front of \
            each, and one nginx with a server block for each; everything on 127.0.0.1. Every phase runs its \
            targets in rounds, in a rotating order, so drift on a shared machine hits all three alike. One more \
            signing-proxy with SIGNING_MODE=lazy, in front of the fast upstream, joins the c=64 and \
            /v1/signature phases, so both signing modes are reported. With a redis-server, the shared receipt \
            store is measured on and off in back-to-back pairs, in both signing modes.
            """
    )

    // MARK: Inputs

    @Option(help: "Folder with the release signing-proxy and mock-vllm binaries.")
    var binDir = ".build/release"

    @Option(help: "nginx binary; 'none' skips nginx.")
    var nginx = "/usr/sbin/nginx"

    @Option(help: "Where the JSON goes.")
    var output = "benchmarks/results/latest.json"

    // MARK: Bounds (every count and duration)

    @Option(help: "Rounds per phase; each round runs every target once.")
    var rounds = 3

    @Option(help: "Seconds per target per round, c=1 latency phase.")
    var latencySeconds = 2.0

    @Option(help: "Seconds per target per round and path, c=1 GET /health and GET /v1/models.")
    var decompositionSeconds = 1.0

    @Option(help: "Seconds per target per round, c=64 throughput phase.")
    var throughputSeconds = 3.0

    @Option(help: "Connections in the throughput phase.")
    var throughputConcurrency = 64

    @Option(help: "Seconds per target per round, paced-stream phase.")
    var pacedSeconds = 3.0

    @Option(help: "Concurrent streams in the paced-stream phase.")
    var pacedConcurrency = 32

    @Option(help: "Milliseconds between events of paced streams.")
    var pacedDelayMs = 20

    @Option(help: "Tokens per paced stream.")
    var pacedTokens = 50

    @Option(help: "Tokens per fast (unpaced) completion.")
    var fastTokens = 16

    @Option(help: "Unrecorded warm-up seconds at the start of every slice.")
    var warmUpSeconds = 0.3

    @Option(name: .customLong("signature-ids"), help: "Completions signed, then looked up once each, in the signature phase.")
    var signatureIDs = 12_800

    @Option(help: "Open-stream counts for the memory phase, comma-separated.")
    var openStreams = "1000,10000"

    @Option(help: "Milliseconds between events of the held streams (memory phase).")
    var holdDelayMs = 2_000

    @Option(help: "Seconds to wait for held streams to open.")
    var openTimeoutSeconds = 40.0

    @Option(help: "Seconds per single-core crypto rate and per openssl size.")
    var cryptoSeconds = 1.0

    @Option(help: "Event loop threads of the load generator.")
    var clientThreads = 1

    @Option(help: "Seconds per route, target and round, c=1 streamed-routes phase (chat, Responses, Messages).")
    var routeSeconds = 2.0

    @Option(help: "redis-server binary for the shared receipt store phase (store on and off); 'none' skips it.")
    var redisServer = "/usr/bin/redis-server"

    @Option(help: "Back-to-back pairs (store off, store on) per signing mode in the shared receipt store phase.")
    var storePairs = 4

    @Flag(help: "Run only the shared receipt store phase (store on and off); the other phases' fields are then zero or empty, and no goal is judged.")
    var storeOnly = false

    @Flag(help: "Run only the streamed-routes phase (chat, Responses and Messages streams); skips crypto, c=1, c=64, paced chat, signature and memory phases, whose JSON fields are then zero or empty.")
    var streamsOnly = false

    func validate() throws {
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be 1...20") }
        for (name, value) in [
            ("latency", latencySeconds), ("decomposition", decompositionSeconds), ("throughput", throughputSeconds),
            ("paced", pacedSeconds), ("route", routeSeconds),
            ("open-timeout", openTimeoutSeconds), ("crypto", cryptoSeconds),
        ] where !(0.1...120).contains(value) {
            throw ValidationError("--\(name)-seconds must be 0.1...120")
        }
        guard (0...10).contains(warmUpSeconds) else { throw ValidationError("--warm-up-seconds must be 0...10") }
        guard (1...4096).contains(throughputConcurrency), (1...4096).contains(pacedConcurrency) else {
            throw ValidationError("concurrency must be 1...4096")
        }
        guard (1...1_000).contains(pacedDelayMs), (1...60_000).contains(holdDelayMs) else {
            throw ValidationError("delays must be 1...1000 ms (paced) and 1...60000 ms (hold)")
        }
        guard (1...4096).contains(pacedTokens), (1...4096).contains(fastTokens) else {
            throw ValidationError("tokens must be 1...4096")
        }
        guard (64...1_000_000).contains(signatureIDs) else { throw ValidationError("--signature-ids must be 64...1000000") }
        guard (1...20).contains(storePairs) else { throw ValidationError("--store-pairs must be 1...20") }
        guard !(storeOnly && streamsOnly) else { throw ValidationError("--store-only and --streams-only exclude each other") }
        guard !storeOnly || redisServer != "none" else { throw ValidationError("--store-only needs --redis-server") }
        guard (1...8).contains(clientThreads) else { throw ValidationError("--client-threads must be 1...8") }
        guard !openStreamCounts.isEmpty, openStreamCounts.allSatisfy({ (1...100_000).contains($0) }) else {
            throw ValidationError("--open-streams: comma-separated counts 1...100000")
        }
    }

    var openStreamCounts: [Int] {
        openStreams.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    // MARK: Run

    func run() async throws {
        let began = ContinuousClock.now
        let fileLimit = FileLimit.raiseToHardLimit()
        let nginxPath: String? = nginx == "none" ? nil : nginx
        if let nginxPath, !FileManager.default.isExecutableFile(atPath: nginxPath) {
            throw HarnessError.missing("\(nginxPath) (install nginx-light, or pass --nginx none)")
        }
        let redisPath: String? = redisServer == "none" || streamsOnly ? nil : redisServer
        if let redisPath, !FileManager.default.isExecutableFile(atPath: redisPath) {
            throw HarnessError.missing("\(redisPath) (install redis-server, or pass --redis-server none)")
        }
        for binary in ["signing-proxy", "mock-vllm"] where !FileManager.default.isExecutableFile(atPath: "\(binDir)/\(binary)") {
            throw HarnessError.missing("\(binDir)/\(binary) (swift build -c release --product \(binary))")
        }
        let machine = MachineDescription.current(nginx: nginxPath)
        log("machine: \(machine.cpuModel), \(machine.logicalCPUs) CPUs, load \(machine.loadAverageAtStart)")

        let crypto: CryptoBaseline
        if streamsOnly || storeOnly {
            crypto = CryptoBaseline(
                sha256MBps200B: 0, sha256MBps1MiB: 0, secp256k1SignaturesPerSecond: 0, exchangeSignaturesPerSecond: 0,
                opensslSpeed: "not measured (\(streamsOnly ? "--streams-only" : "--store-only"))")
        } else {
            log("crypto baselines (\(cryptoSeconds) s each) and openssl speed")
            crypto = CryptoBaseline.measure(seconds: cryptoSeconds)
        }

        let directory = try TemporaryDirectory.make()
        let servers = Servers(directory: directory, binDir: binDir)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: clientThreads)
        do {
            try await servers.start(
                fastTokens: fastTokens, pacedDelayMs: pacedDelayMs, pacedTokens: pacedTokens,
                holdDelayMs: holdDelayMs, nginx: nginxPath, fileLimit: fileLimit)
            let report = try await measure(
                servers: servers, group: group, crypto: crypto, machine: machine, fileLimit: fileLimit, redisServer: redisPath)
            var final = report
            final.durationSeconds = Self.seconds(ContinuousClock.now - began)
            final.machine.loadAverageAtEnd = MachineDescription.loadAverage()
            try write(final)
            print(ReportTable.render(final))
        } catch {
            await servers.stopAll()
            try? await group.shutdownGracefully()
            throw error
        }
        await servers.stopAll()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func measure(
        servers: Servers,
        group: MultiThreadedEventLoopGroup,
        crypto: CryptoBaseline,
        machine: MachineDescription,
        fileLimit: Int,
        redisServer: String?
    ) async throws -> HarnessReport {
        let driver = LoadDriver(group: group)
        if storeOnly, let redisServer {
            try await Task.sleep(for: .seconds(1))
            log("shared receipt store on and off (\(storePairs) pairs per signing mode)")
            let store = try await sharedStore(driver: driver, servers: servers, group: group, redisServer: redisServer)
            var report = try await streamsOnlyReport(
                driver: driver, servers: servers, group: group, crypto: crypto, machine: machine, fileLimit: fileLimit, runRoutes: false)
            report.sharedStore = store
            return report
        }
        if streamsOnly {
            try await Task.sleep(for: .seconds(1))
            return try await streamsOnlyReport(driver: driver, servers: servers, group: group, crypto: crypto, machine: machine, fileLimit: fileLimit)
        }
        let names = servers.targetNames
        let throughputNames = servers.throughputTargetNames
        var figures: [String: PhaseAccumulator] = [:]
        for name in throughputNames { figures[name] = PhaseAccumulator() }

        // Idle memory first, before any request touches the proxies.
        try await Task.sleep(for: .seconds(1))
        let idle = servers.residentBytes(.hold)

        let nonStreamed = RequestSpec.chat(stream: false, token: Servers.token)
        let streamed = RequestSpec.chat(stream: true, token: Servers.token)
        let warmUp = Duration.milliseconds(Int(warmUpSeconds * 1000))

        log("phase 1/5: latency at c=1 (\(rounds) rounds x \(throughputNames.count) targets x \(latencySeconds) s; eager and lazy signing)")
        for round in 0..<rounds {
            for name in rotated(throughputNames, by: round) {
                let (samples, _) = try await driver.run(
                    target: try servers.address(name, .fast), concurrency: 1, warmUp: warmUp,
                    duration: .milliseconds(Int(latencySeconds * 1000))) { _, _ in nonStreamed }
                figures[name]?.latency.merge(samples)
            }
        }

        // Where the added latency goes: the same servers on a route with no upstream (/health: the HTTP
        // server alone) and on a plain pass-through (/v1/models: server + upstream client, no signing).
        log("phase 1b/5: GET /health and GET /v1/models at c=1 (\(rounds) rounds x \(decompositionSeconds) s)")
        var decomposition: [String: [String: WorkerSamples]] = [:]
        for path in ["/health", "/v1/models"] {
            let spec = RequestSpec.get(path, token: Servers.token)
            for round in 0..<rounds {
                for name in rotated(names, by: round) {
                    let (samples, _) = try await driver.run(
                        target: try servers.address(name, .fast), concurrency: 1, warmUp: warmUp,
                        duration: .milliseconds(Int(decompositionSeconds * 1000))) { _, _ in spec }
                    decomposition[path, default: [:]][name, default: WorkerSamples()].merge(samples)
                }
            }
        }

        log("phase 2/5: requests/s at c=\(throughputConcurrency) (\(rounds) rounds x \(throughputNames.count) targets x \(throughputSeconds) s; eager and lazy signing)")
        for round in 0..<rounds {
            for name in rotated(throughputNames, by: round) {
                // Who had the cores: the serving process(es) and this load generator (same 2 cores).
                let pids = servers.pids(name, .fast)
                let serverBefore = ProcessProbe.cpuSeconds(pids)
                let generatorBefore = ProcessProbe.cpuSeconds(getpid()) ?? 0
                let (samples, seconds) = try await driver.run(
                    target: try servers.address(name, .fast), concurrency: throughputConcurrency, warmUp: warmUp,
                    duration: .milliseconds(Int(throughputSeconds * 1000))) { _, _ in nonStreamed }
                let total = seconds + warmUpSeconds
                figures[name]?.throughput.merge(samples)
                figures[name]?.throughputSeconds += seconds
                figures[name]?.throughputServerCores.append((ProcessProbe.cpuSeconds(pids) - serverBefore) / total)
                figures[name]?.throughputGeneratorCores.append(((ProcessProbe.cpuSeconds(getpid()) ?? 0) - generatorBefore) / total)
            }
        }

        var store: SharedStoreFigures?
        if let redisServer {
            log("phase 2b/5: shared receipt store (Redis) on and off, \(storePairs) back-to-back pairs per signing mode, c=1 and c=\(throughputConcurrency)")
            store = try await sharedStore(driver: driver, servers: servers, group: group, redisServer: redisServer)
        }

        // Streams start spread over one stream's length (and the first length is not recorded), so
        // requests arrive one by one as in a steady state, not as a burst every stream length.
        let streamLength = Duration.milliseconds(pacedDelayMs * pacedTokens)
        let stagger = streamLength / pacedConcurrency
        log("phase 3/5: paced streams, c=\(pacedConcurrency), \(pacedDelayMs) ms between events")
        for round in 0..<rounds {
            for name in rotated(names, by: round) {
                // CPU over the whole slice, set against every event of the slice (warm-up included).
                let pids = servers.pids(name, .paced)
                let cpuBefore = ProcessProbe.cpuSeconds(pids)
                let (samples, _) = try await driver.run(
                    target: try servers.address(name, .paced), concurrency: pacedConcurrency, warmUp: streamLength,
                    duration: .milliseconds(Int(pacedSeconds * 1000)), stagger: stagger) { _, _ in streamed }
                let cpu = ProcessProbe.cpuSeconds(pids) - cpuBefore
                figures[name]?.paced.merge(samples)
                figures[name]?.pacedCPUSeconds += cpu
            }
        }

        log("phase 3b/5: streamed routes (chat, Responses, Messages)")
        let routes = try await streamedRoutes(driver: driver, servers: servers, group: group)

        log("phase 4/5: \(signatureIDs) signed completions, then GET /v1/signature once each at c=64 (eager, then lazy twice)")
        let signatures = try await signatureLookups(
            driver: driver, servers: servers, crypto: crypto, target: Servers.signingProxy,
            mode: "eager (both signatures computed before the response ends)", repeatPass: false)
        let lazySignatures = try await signatureLookups(
            driver: driver, servers: servers, crypto: crypto, target: Servers.signingProxyLazy,
            mode: "lazy (each first lookup signs ecdsa, then caches it)", repeatPass: true)
        let verification = await verifyExchanges(group: group, servers: servers)
        let idleAfterLoad = servers.residentBytes(.fast)

        log("phase 5/5: memory with \(openStreamCounts) open streams")
        var memory: [String: MemoryFigures] = [:]
        for name in names where name != Servers.direct {
            memory[name] = MemoryFigures(
                idleBytes: idle[name] ?? 0, idleAfterLoadBytes: idleAfterLoad[name], openStreams: [])
        }
        for count in openStreamCounts {
            for name in names where name != Servers.direct {
                let figure = try await holdStreams(
                    count: count, name: name, servers: servers, group: group, request: streamed,
                    idle: idle[name] ?? 0, fileLimit: fileLimit)
                memory[name]?.openStreams.append(figure)
            }
        }

        var report = ReportBuilder(
            machine: machine, settings: settings(fileLimit: fileLimit), crypto: crypto, figures: figures,
            signatures: signatures, lazySignatures: lazySignatures, memory: memory, verification: verification,
            decomposition: decomposition.mapValues { $0.mapValues { Percentiles($0.latencies) } },
            streamedRoutes: routes
        ).build()
        report.sharedStore = store
        return report
    }

    /// `--streams-only`: the streamed-routes phase alone; the other phases' fields stay zero or empty and
    /// no goal is judged. `--store-only` (`runRoutes` false): not even that phase.
    private func streamsOnlyReport(
        driver: LoadDriver, servers: Servers, group: MultiThreadedEventLoopGroup, crypto: CryptoBaseline,
        machine: MachineDescription, fileLimit: Int, runRoutes: Bool = true
    ) async throws -> HarnessReport {
        let routes = runRoutes ? try await streamedRoutes(driver: driver, servers: servers, group: group) : nil
        let option = runRoutes ? "--streams-only" : "--store-only"
        let skipped = SignatureLookupFigures(
            signingMode: "not measured (\(option))", ids: 0, lookupsPerSecondC64: 0, repeatLookupsPerSecondC64: nil,
            rawSecp256k1PerCore: 0, ratioToRawSigningRate: 0, errors: 0)
        var report = ReportBuilder(
            machine: machine, settings: settings(fileLimit: fileLimit), crypto: crypto, figures: [:],
            signatures: skipped, lazySignatures: skipped, memory: [:],
            verification: VerificationFigures(exchanges: 0, signaturesVerified: 0, detail: "not run (\(option))"),
            decomposition: [:], streamedRoutes: routes
        ).build()
        report.goals = []
        return report
    }

    // MARK: Phases

    /// Completions through `target`, then one ecdsa lookup per id at c=64; with `repeatPass`, a second
    /// lookup per id (in lazy mode the first signs, the second reads what it cached).
    private func signatureLookups(
        driver: LoadDriver, servers: Servers, crypto: CryptoBaseline, target: String, mode: String, repeatPass: Bool
    ) async throws -> SignatureLookupFigures {
        let concurrency = 64
        let perWorker = max(1, signatureIDs / concurrency)
        let proxy = try servers.address(target, .fast)
        let nonStreamed = RequestSpec.chat(stream: false, token: Servers.token)
        let (made, _) = try await driver.run(
            target: proxy, concurrency: concurrency, warmUp: .zero, duration: .seconds(120),
            maxRequestsPerWorker: perWorker, captureIDs: perWorker) { _, _ in nonStreamed }
        let ids = made.capturedIDs
        let lookups = ids.map { RequestSpec.get("/v1/signature/\($0)?signing_algo=ecdsa", token: Servers.token) }
        let each = max(1, lookups.count / concurrency)
        let (looked, seconds) = try await driver.run(
            target: proxy, concurrency: concurrency, warmUp: .zero, duration: .seconds(120),
            maxRequestsPerWorker: each) { worker, index in lookups[(worker * each + index) % lookups.count] }
        let rate = Double(looked.completed) / seconds
        var errors = made.errors + made.badStatus + looked.errors + looked.badStatus
        var repeatRate: Double?
        if repeatPass {
            let (again, againSeconds) = try await driver.run(
                target: proxy, concurrency: concurrency, warmUp: .zero, duration: .seconds(120),
                maxRequestsPerWorker: each) { worker, index in lookups[(worker * each + index) % lookups.count] }
            repeatRate = Double(again.completed) / againSeconds
            errors += again.errors + again.badStatus
        }
        return SignatureLookupFigures(
            signingMode: mode,
            ids: ids.count,
            lookupsPerSecondC64: rate,
            repeatLookupsPerSecondC64: repeatRate,
            rawSecp256k1PerCore: crypto.secp256k1SignaturesPerSecond,
            ratioToRawSigningRate: rate / crypto.secp256k1SignaturesPerSecond,
            errors: errors
        )
    }

    /// Streams a few completions through the paced proxy and one through the lazy-signing proxy, and
    /// checks their signatures with the SigningProxyVerifier library (both modes must still sign correctly
    /// under the harness).
    private func verifyExchanges(group: MultiThreadedEventLoopGroup, servers: Servers) async -> VerificationFigures {
        let eager = await ExchangeChecker(group: group, port: servers.port(Servers.signingProxy, .paced), token: Servers.token)
            .run(exchanges: 2)
        let lazy = await ExchangeChecker(group: group, port: servers.port(Servers.signingProxyLazy, .fast), token: Servers.token)
            .run(exchanges: 1)
        return VerificationFigures(
            exchanges: eager.exchanges + lazy.exchanges,
            signaturesVerified: eager.signaturesVerified + lazy.signaturesVerified,
            detail: "eager: \(eager.signaturesVerified) \(eager.detail); lazy: \(lazy.signaturesVerified) \(lazy.detail)")
    }

    private func holdStreams(
        count: Int, name: String, servers: Servers, group: MultiThreadedEventLoopGroup, request: RequestSpec,
        idle: Int, fileLimit: Int
    ) async throws -> OpenStreamsFigure {
        // The proxy holds a client and an upstream socket per stream; nginx spreads them over workers.
        let attempted = min(count, max(1, (fileLimit - 256) / 2))
        log("  \(name): opening \(attempted) streams\(attempted < count ? " (of \(count); open-file limit \(fileLimit))" : "")")
        let holder = StreamHolder(group: group)
        await holder.open(
            count: attempted, target: try servers.address(name, .hold), request: request, batch: 250,
            pause: .milliseconds(25))
        let streaming = await holder.waitUntilStreaming(attempted, timeout: .milliseconds(Int(openTimeoutSeconds * 1000)))
        try await Task.sleep(for: .seconds(1))
        let resident = ProcessProbe.residentBytes(servers.pids(name, .hold))
        let headers = holder.headers.load(ordering: .relaxed)
        await holder.closeAll()
        // Let the servers notice the closes and release memory before the next count.
        try await Task.sleep(for: .seconds(2))
        let perConnection = Double(resident - idle) / Double(attempted)
        return OpenStreamsFigure(
            requested: count, attempted: attempted, withHeaders: headers, streaming: streaming,
            residentBytes: resident, bytesPerConnection: perConnection,
            extrapolatedBytes: attempted < count ? Double(idle) + perConnection * Double(count) : nil)
    }

    // MARK: Helpers

    func rotated<Item>(_ items: [Item], by round: Int) -> [Item] {
        let shift = round % items.count
        return Array(items[shift...] + items[..<shift])
    }

    private func settings(fileLimit: Int) -> [String: String] {
        [
            "rounds": "\(rounds)", "latencySeconds": "\(latencySeconds)", "decompositionSeconds": "\(decompositionSeconds)", "throughputSeconds": "\(throughputSeconds)",
            "throughputConcurrency": "\(throughputConcurrency)", "pacedSeconds": "\(pacedSeconds)",
            "pacedConcurrency": "\(pacedConcurrency)", "pacedDelayMs": "\(pacedDelayMs)", "pacedTokens": "\(pacedTokens)",
            "fastTokens": "\(fastTokens)", "warmUpSeconds": "\(warmUpSeconds)", "signatureIDs": "\(signatureIDs)",
            "openStreams": openStreams, "holdDelayMs": "\(holdDelayMs)", "clientThreads": "\(clientThreads)",
            "openFileLimit": "\(fileLimit)", "signingMode": "eager", "routeSeconds": "\(routeSeconds)",
            "phases": streamsOnly ? "streamed routes only (--streams-only)" : storeOnly ? "shared receipt store only (--store-only)" : "all",
            "redisServer": redisServer, "storePairs": "\(storePairs)",
            "lazySigningTarget": "\(Servers.signingProxyLazy): SIGNING_MODE=lazy, fast upstream, c=1, c=64 and /v1/signature phases only",
        ]
    }

    private func write(_ report: HarnessReport) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(report)
        let url = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        log("wrote \(output)")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// Progress on stderr, so stdout carries only the table.
func log(_ line: String) {
    FileHandle.standardError.write(Data("[load-harness] \(line)\n".utf8))
}
