import Foundation
import HarnessSupport
import NIOCore
import NIOPosix
import SigningProxyVerifier

extension LoadHarness {
    /// The shared receipt store (docs/API.md, "Shared receipt store") on and off, in each signing mode: the
    /// proxy without Redis and the same proxy with `REDIS_HOST`/`REDIS_PORT` pointing at a redis-server on
    /// loopback, both in front of the fast upstream. Each pair runs c=1 off and on, then c=64 off and on,
    /// back to back; every other pair starts with the store on. Redis and its proxies are stopped afterwards.
    func sharedStore(
        driver: LoadDriver, servers: Servers, group: MultiThreadedEventLoopGroup, redisServer: String
    ) async throws -> SharedStoreFigures {
        try await servers.startSharedStore(redisServer: redisServer)
        try await Task.sleep(for: .seconds(1))
        let nonStreamed = RequestSpec.chat(stream: false, token: Servers.token)
        let warmUp = Duration.milliseconds(Int(warmUpSeconds * 1000))
        let sides = [
            ("eager", Servers.signingProxy, Servers.signingProxyRedis),
            ("lazy", Servers.signingProxyLazy, Servers.signingProxyLazyRedis),
        ]
        var accumulators: [String: SharedStoreAccumulator] = [:]
        for pair in 0..<storePairs {
            for (mode, offName, onName) in sides {
                var accumulator = accumulators[mode] ?? SharedStoreAccumulator()
                let order = pair % 2 == 0 ? [false, true] : [true, false]
                var p50: [Bool: Double] = [:]
                var rps: [Bool: Double] = [:]
                for on in order {
                    let (samples, _) = try await driver.run(
                        target: try servers.address(on ? onName : offName, .fast), concurrency: 1, warmUp: warmUp,
                        duration: .milliseconds(Int(latencySeconds * 1000))) { _, _ in nonStreamed }
                    p50[on] = Percentiles(samples.latencies).p50Microseconds
                    if on { accumulator.on.latency.merge(samples) } else { accumulator.off.latency.merge(samples) }
                }
                for on in order {
                    let name = on ? onName : offName
                    let pids = servers.pids(name, .fast)
                    let redisPids = servers.redis.map { [$0.pid] } ?? []
                    let serverBefore = ProcessProbe.cpuSeconds(pids)
                    let redisBefore = ProcessProbe.cpuSeconds(redisPids)
                    let (samples, seconds) = try await driver.run(
                        target: try servers.address(name, .fast), concurrency: throughputConcurrency, warmUp: warmUp,
                        duration: .milliseconds(Int(throughputSeconds * 1000))) { _, _ in nonStreamed }
                    let total = seconds + warmUpSeconds
                    let cores = (ProcessProbe.cpuSeconds(pids) - serverBefore) / total
                    rps[on] = Double(samples.completed) / seconds
                    if on {
                        accumulator.on.throughput.merge(samples)
                        accumulator.on.seconds += seconds
                        accumulator.on.serverCores.append(cores)
                        accumulator.redisCores.append((ProcessProbe.cpuSeconds(redisPids) - redisBefore) / total)
                    } else {
                        accumulator.off.throughput.merge(samples)
                        accumulator.off.seconds += seconds
                        accumulator.off.serverCores.append(cores)
                    }
                }
                let off = rps[false] ?? 0
                let on = rps[true] ?? 0
                accumulator.pairs.append(SharedStoreFigures.Pair(
                    order: order.map { $0 ? "on" : "off" }.joined(separator: ","),
                    requestsPerSecondC64Off: off, requestsPerSecondC64On: on, ratio: off > 0 ? on / off : 0,
                    latencyC1P50Off: p50[false] ?? 0, latencyC1P50On: p50[true] ?? 0))
                log("  pair \(pair + 1)/\(storePairs) \(mode): c=64 \(Int(off))/s off, \(Int(on))/s on (\(String(format: "%.2f", off > 0 ? on / off : 0))); c=1 p50 \(String(format: "%.0f", p50[false] ?? 0)) us off, \(String(format: "%.0f", p50[true] ?? 0)) us on")
                accumulators[mode] = accumulator
            }
        }

        var modes: [String: SharedStoreFigures.Mode] = [:]
        for (mode, _, onName) in sides {
            let counters = await storeCounters(group: group, port: servers.port(onName, .fast))
            modes[mode] = (accumulators[mode] ?? SharedStoreAccumulator()).figures(storeCounters: counters)
        }
        let crossReplica = await crossReplicaCheck(group: group, servers: servers)
        await servers.stopSharedStore()
        let method = """
            The eager and the lazy proxy in front of the fast upstream (store off) against the same settings with \
            REDIS_HOST/REDIS_PORT set to a redis-server on 127.0.0.1 (no persistence; store on), one development \
            key seed for both store proxies. \(storePairs) pairs per mode; a pair is c=1 off and on \
            (\(latencySeconds) s each), then c=\(throughputConcurrency) off and on (\(throughputSeconds) s each), \
            back to back, every other pair starting with the store on; \(warmUpSeconds) s unrecorded warm-up per \
            slice. Ratios are on over off; the pairs' median is the figure to read on a noisy machine. Added c=1 \
            latency is on minus off, percentile by percentile, over every pair's samples: the cost of the Redis \
            write a completion waits for before its last bytes.
            """
        return SharedStoreFigures(
            method: method, redisServer: Self.redisVersion(redisServer), modes: modes, crossReplica: crossReplica)
    }

    /// The `signing_proxy_shared_store_*` series of a proxy's `/metrics`.
    private func storeCounters(group: MultiThreadedEventLoopGroup, port: Int) async -> [String: Double] {
        guard let (status, body) = try? await OneShot.fetch(group: group, port: port, request: .get("/metrics", token: Servers.token)),
            status == 200
        else { return [:] }
        var counters: [String: Double] = [:]
        for line in String(decoding: body, as: UTF8.self).split(separator: "\n") where line.hasPrefix("signing_proxy_shared_store_") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { counters[String(parts[0])] = value }
        }
        return counters
    }

    /// A stream through the eager store proxy, its two signatures looked up on the lazy store proxy: found
    /// there only through Redis.
    private func crossReplicaCheck(group: MultiThreadedEventLoopGroup, servers: Servers) async -> VerificationFigures {
        let verifier = ResponseVerifier()
        let request = RequestSpec.chat(stream: true, token: Servers.token)
        var verified = 0
        var problems: [String] = []
        do {
            let (status, response) = try await OneShot.fetch(
                group: group, port: servers.port(Servers.signingProxyRedis, .fast), request: request)
            if status == 200, let id = ResponseTimer.firstID(in: response) {
                let requestBytes = Array(request.body?.readableBytesView ?? ByteBuffer().readableBytesView)
                for algorithm in ["ecdsa", "ed25519"] {
                    let lookup = RequestSpec.get("/v1/signature/\(id)?signing_algo=\(algorithm)", token: Servers.token)
                    let (lookupStatus, signature) = try await OneShot.fetch(
                        group: group, port: servers.port(Servers.signingProxyLazyRedis, .fast), request: lookup)
                    let report = verifier.verifySignature(request: requestBytes, response: response, signature: signature)
                    if lookupStatus == 200 && report.ok {
                        verified += 1
                    } else {
                        problems.append("\(algorithm) on the other replica: status \(lookupStatus), \(report.failures.map(\.id))")
                    }
                }
            } else {
                problems.append("stream: status \(status), no id")
            }
        } catch {
            problems.append("\(error)")
        }
        return VerificationFigures(
            exchanges: 1, signaturesVerified: verified,
            detail: problems.isEmpty ? "made on the eager store proxy, both found and verified on the lazy one" : problems.joined(separator: "; "))
    }

    private static func redisVersion(_ path: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
