import ArgumentParser
import Foundation
import HarnessSupport

/// `chaos attack`: the reproducers of the adversarial-client findings, each measured and judged.
struct AttackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attack",
        abstract: "Attack reproducers against the release signing-proxy on loopback; figures printed and saved.",
        discussion: """
            Reproducers (--only takes a comma-separated subset): smuggling (against mock-vllm and, with the \
            interop venv, uvicorn --http h11 and --http httptools), leak (RSS over connect/close cycles), \
            pinning (unauthenticated 10 MB bodies), slow-clients (slowloris, slow bodies, idle keep-alive), \
            malformed (every malformed and smuggling-shaped case, with the upstream's request count), \
            slow-reader (Connection: close and HTTP/1.0 readers of a 3 MB JSON answer and a large stream), \
            expect-continue, connection-cap (over VLLM_PROXY_MAX_CONNECTIONS, and at the open-file limit). \
            Each result says pass or fail by the issue's "done" line; exits 1 when any fails.
            """
    )

    static let all = ["smuggling", "leak", "pinning", "slow-clients", "malformed", "slow-reader", "expect-continue", "connection-cap"]

    @OptionGroup var common: CommonOptions

    @Option(help: "Comma-separated reproducers to run (default: all).")
    var only = AttackCommand.all.joined(separator: ",")

    @Option(help: "Python of the interop venv, with uvicorn, h11 and httptools ('none' skips uvicorn).")
    var python = ".venv/bin/python"

    @Option(help: "Folder holding vllm_asgi.py.")
    var uvicornAppDir = "benchmarks/uvicorn"

    @Option(help: "Connect/close cycle checkpoints, comma-separated (RSS read at each).")
    var leakCycles = "10000,50000"

    @Option(help: "Unauthenticated connections of the pinning reproducer.")
    var pinningConnections = 40

    @Option(help: "Body bytes each of them announces (all but the last byte are sent).")
    var pinningBodyBytes = 10_000_000

    @Option(help: "Slowloris connections.")
    var slowloris = 200

    @Option(help: "Slow-body connections.")
    var slowBodies = 50

    @Option(help: "Idle keep-alive connections.")
    var idleConnections = 200

    @Option(help: "Seconds the slow clients are watched.")
    var slowObserveSeconds = 20.0

    @Option(help: "Header, body and keep-alive timeouts (seconds) given to the slow-clients proxy; --proxy-env overrides.")
    var slowTimeoutSeconds = 5

    @Option(help: "Runs per slow-reader mode.")
    var slowReaderRuns = 100

    @Option(help: "Slow readers at once.")
    var slowReaderParallel = 16

    @Option(help: "Tokens of the slow readers' JSON answer (about 4.6 bytes each: 650000 ≈ 3 MB).")
    var slowReaderJSONTokens = 650_000

    @Option(help: "Tokens of the slow readers' stream (about 215 bytes each: 20000 ≈ 4.3 MB).")
    var slowReaderStreamTokens = 20_000

    @Option(help: "Receive buffer of a slow reader, bytes.")
    var slowReaderReceiveBuffer = 4_096

    @Option(help: "Most bytes a slow reader takes per read.")
    var slowReaderReadBytes = 1_024

    @Option(help: "Milliseconds a slow reader sleeps between reads.")
    var slowReaderPauseMs = 1

    @Option(help: "VLLM_PROXY_MAX_CONNECTIONS for the cap scenario.")
    var cap = 64

    @Option(help: "Clients sent over the cap (and at the file limit).")
    var capExtra = 20

    @Option(help: "Open-file limit of the proxy in the file-limit scenario.")
    var fileLimit = 256

    @Option(help: "Where the JSON goes.")
    var output = "benchmarks/results/attack-latest.json"

    var selected: [String] {
        only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    func validate() throws {
        try common.validate()
        for name in selected where !Self.all.contains(name) {
            throw ValidationError("unknown reproducer \(name); known: \(Self.all.joined(separator: ", "))")
        }
        guard leakCheckpoints.count >= 1, leakCheckpoints.allSatisfy({ (1...1_000_000).contains($0) }), leakCheckpoints == leakCheckpoints.sorted()
        else { throw ValidationError("--leak-cycles: ascending counts 1...1000000") }
        guard (1...1000).contains(pinningConnections), (1...(64 << 20)).contains(pinningBodyBytes) else {
            throw ValidationError("pinning bounds: 1...1000 connections, 1...64 MiB")
        }
        guard (0...5000).contains(slowloris), (0...5000).contains(slowBodies), (0...5000).contains(idleConnections),
            (1...300).contains(slowObserveSeconds), (1...300).contains(slowTimeoutSeconds)
        else { throw ValidationError("slow-clients bounds: 0...5000 connections, 1...300 s") }
        guard (1...1000).contains(slowReaderRuns), (1...32).contains(slowReaderParallel),
            (1...2_000_000).contains(slowReaderJSONTokens), (1...200_000).contains(slowReaderStreamTokens),
            (1...(1 << 20)).contains(slowReaderReadBytes), (0...1000).contains(slowReaderPauseMs)
        else { throw ValidationError("slow-reader bounds") }
        guard (1...10_000).contains(cap), (1...1000).contains(capExtra), (64...65_536).contains(fileLimit) else {
            throw ValidationError("connection-cap bounds")
        }
    }

    var leakCheckpoints: [Int] {
        leakCycles.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    func run() async throws {
        let began = ContinuousClock.now
        let hardLimit = FileLimit.raiseToHardLimit()
        let fleet = try Fleet(binDir: common.binDir, mockBinDir: common.mockBinDir, proxyEnvironment: try common.environment())
        var report = AttackReport()
        report.startedAt = ISO8601DateFormatter().string(from: Date())
        report.binDir = common.binDir
        report.proxyEnvironment = common.proxyEnv
        report.openFileLimit = hardLimit
        do {
            try await attack(fleet: fleet, report: &report)
        } catch {
            await fleet.stopAll()
            fleet.cleanUp(keep: true)
            throw error
        }
        await fleet.stopAll()
        fleet.cleanUp(keep: common.keepLogs)
        report.durationSeconds = (ContinuousClock.now - began).seconds
        report.summarize()
        try writeJSON(report, to: output)
        print(report.table())
        if !report.pass { throw ExitCode(1) }
    }

    private func attack(fleet: Fleet, report: inout AttackReport) async throws {
        let chosen = Set(selected)
        let mock = try await fleet.mock("main", ["--tokens", "2000000", "--max-model-len", "2000000", "--request-faults"])
        let proxy = try await fleet.proxy("main", upstreamPort: mock.port)
        let checker = SignatureChecker(port: proxy.port, token: Fleet.token, ecdsaAddress: Fleet.signingAddress(of: proxy))

        if chosen.contains("smuggling") {
            chaosLog("smuggling: mock-vllm")
            // Its own proxy: a successful smuggle poisons the proxy's upstream pool for whoever comes next.
            let front = try await fleet.proxy("smuggling-mock", upstreamPort: mock.port)
            report.smuggling.append(SmugglingReproducer.run(proxyPort: front.port, upstream: mock))
            await fleet.stop(front)
            if python == "none" || !FileManager.default.isExecutableFile(atPath: python) {
                report.skipped.append("smuggling against uvicorn: no python at \(python) (make venv)")
            } else {
                for http in ["h11", "httptools"] {
                    chaosLog("smuggling: uvicorn --http \(http)")
                    let upstream = try await fleet.uvicorn(python: python, appDirectory: uvicornAppDir, http: http)
                    let front = try await fleet.proxy("uvicorn-\(http)", upstreamPort: upstream.port)
                    report.smuggling.append(SmugglingReproducer.run(proxyPort: front.port, upstream: upstream))
                    await fleet.stop(front)
                    await fleet.stop(upstream.process)
                }
            }
        }
        if chosen.contains("malformed") {
            chaosLog("malformed: \(MalformedCase.catalogue(token: Fleet.token).count) cases")
            let front = try await fleet.proxy("malformed", upstreamPort: mock.port)
            for testCase in MalformedCase.catalogue(token: Fleet.token) {
                let before = mock.requests().count
                var outcome = MalformedOutcome.run(testCase, port: front.port, bound: .seconds(5))
                try await Task.sleep(for: .milliseconds(300))
                let seen = mock.requests().dropFirst(before)
                outcome.upstreamRequests = seen.count
                outcome.upstreamSummary = seen.map {
                    "\($0.method) \($0.path) cl=\($0.contentLength ?? "-") te=\($0.transferEncoding ?? "-")"
                }
                if seen.count > testCase.maxUpstream {
                    outcome.problems.append("upstream saw \(seen.count) requests (at most \(testCase.maxUpstream) expected)")
                }
                report.malformed.append(outcome)
            }
            await fleet.stop(front)
        }
        if chosen.contains("slow-reader") {
            chaosLog("slow reader: \(slowReaderRuns) runs x 4 modes")
            report.slowReader = SlowReaderReproducer.run(
                proxyPort: proxy.port, checker: checker, runs: slowReaderRuns, jsonTokens: slowReaderJSONTokens,
                streamTokens: slowReaderStreamTokens, receiveBuffer: slowReaderReceiveBuffer, readBytes: slowReaderReadBytes,
                pause: .milliseconds(slowReaderPauseMs), parallel: slowReaderParallel)
        }
        if chosen.contains("expect-continue") {
            chaosLog("expect: 100-continue")
            report.expectContinue = ExpectContinueReproducer.run(proxyPort: proxy.port)
        }
        if chosen.contains("leak") {
            for kind in ConnectionLeakReproducer.Kind.allCases {
                let fresh = try await fleet.proxy("leak-\(kind.rawValue)", upstreamPort: mock.port)
                chaosLog("leak: \(kind.rawValue) connect/close cycles \(leakCheckpoints)")
                report.leak.append(
                    ConnectionLeakReproducer.run(kind: kind, proxyPort: fresh.port, pid: fresh.pid, checkpoints: leakCheckpoints))
                await fleet.stop(fresh)
            }
        }
        if chosen.contains("pinning") {
            let fresh = try await fleet.proxy("pinning", upstreamPort: mock.port)
            chaosLog("pinning: \(pinningConnections) unauthenticated \(pinningBodyBytes)-byte bodies")
            report.pinning = MemoryPinningReproducer.run(
                proxyPort: fresh.port, pid: fresh.pid, connections: pinningConnections, bodyBytes: pinningBodyBytes)
            await fleet.stop(fresh)
        }
        if chosen.contains("slow-clients") {
            let timeouts = [
                "VLLM_PROXY_HEADER_TIMEOUT_SECS": "\(slowTimeoutSeconds)", "VLLM_PROXY_BODY_TIMEOUT_SECS": "\(slowTimeoutSeconds)",
                "VLLM_PROXY_KEEPALIVE_TIMEOUT_SECS": "\(slowTimeoutSeconds)",
            ].merging(try common.environment()) { _, given in given }
            let fresh = try await fleet.proxy("slow-clients", upstreamPort: mock.port, environment: timeouts)
            report.slowClientsEnvironment = timeouts
            chaosLog("slow clients: \(slowloris) slowloris, \(slowBodies) slow bodies, \(idleConnections) idle, watched \(slowObserveSeconds) s")
            let bound = { (name: String) in Double(timeouts[name].flatMap(Int.init) ?? slowTimeoutSeconds) + 3 }
            report.slowClients = SlowClientsReproducer.run(
                proxyPort: fresh.port, slowloris: slowloris, slowBodies: slowBodies, idle: idleConnections,
                observe: .milliseconds(Int64(slowObserveSeconds * 1000)),
                bounds: [
                    bound("VLLM_PROXY_HEADER_TIMEOUT_SECS"), bound("VLLM_PROXY_BODY_TIMEOUT_SECS"),
                    bound("VLLM_PROXY_KEEPALIVE_TIMEOUT_SECS"),
                ])
            await fleet.stop(fresh)
        }
        if chosen.contains("connection-cap") {
            let capped = try await fleet.proxy(
                "cap", upstreamPort: mock.port, environment: ["VLLM_PROXY_MAX_CONNECTIONS": "\(cap)"])
            chaosLog("connection cap: \(cap) held, \(capExtra) over")
            report.connectionCap.append(
                ConnectionCapReproducer.run(
                    scenario: "VLLM_PROXY_MAX_CONNECTIONS=\(cap)", proxyPort: capped.port, held: cap, extra: capExtra,
                    warmHeld: true, expectRefusal: true))
            await fleet.stop(capped)
            let limited = try await fleet.proxy("file-limit", upstreamPort: mock.port, fileLimit: fileLimit)
            chaosLog("file limit: ulimit -n \(fileLimit), \(fileLimit + 44) held, \(capExtra) more")
            report.connectionCap.append(
                ConnectionCapReproducer.run(
                    scenario: "ulimit -n \(fileLimit)", proxyPort: limited.port, held: fileLimit + 44, extra: capExtra,
                    wait: .seconds(5), warmHeld: false, expectRefusal: false))
            await fleet.stop(limited)
            // As docs/API.md advises: the cap below half the open-file limit.
            let advised = fileLimit / 2 - 28
            let guided = try await fleet.proxy(
                "file-limit-capped", upstreamPort: mock.port, environment: ["VLLM_PROXY_MAX_CONNECTIONS": "\(advised)"],
                fileLimit: fileLimit)
            chaosLog("file limit with the advised cap: ulimit -n \(fileLimit), VLLM_PROXY_MAX_CONNECTIONS=\(advised)")
            report.connectionCap.append(
                ConnectionCapReproducer.run(
                    scenario: "ulimit -n \(fileLimit), VLLM_PROXY_MAX_CONNECTIONS=\(advised)", proxyPort: guided.port,
                    held: fileLimit + 44, extra: capExtra, wait: .seconds(5), warmHeld: false, expectRefusal: true))
            await fleet.stop(guided)
        }
    }
}
