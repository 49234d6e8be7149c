import HarnessSupport
import NIOCore
import NIOPosix

extension LoadHarness {
    /// Streamed chat, Responses and Messages through every target, interleaved: routes and targets rotate
    /// each round, so drift hits all routes alike and each route's added latency can be set against chat's.
    ///
    /// - c=1 on the fast upstream: request to end of stream (every event parsed and hashed by the proxy)
    ///   and to the first event;
    /// - the paced upstream at the paced phase's concurrency: time to first event, gaps, CPU per event.
    func streamedRoutes(driver: LoadDriver, servers: Servers, group: MultiThreadedEventLoopGroup) async throws -> StreamedRoutesFigures {
        let names = servers.targetNames
        let routes = StreamRoute.allCases
        var samples: [StreamRoute: [String: RouteAccumulator]] = [:]
        let warmUp = Duration.milliseconds(Int(warmUpSeconds * 1000))

        log("streamed routes, c=1, fast upstream (\(rounds) rounds x \(routes.count) routes x \(names.count) targets x \(routeSeconds) s)")
        for round in 0..<rounds {
            for route in rotated(routes, by: round) {
                let spec = route.request(token: Servers.token, tokens: fastTokens)
                for name in rotated(names, by: round) {
                    let (measured, _) = try await driver.run(
                        target: try servers.address(name, .fast), concurrency: 1, warmUp: warmUp,
                        duration: .milliseconds(Int(routeSeconds * 1000))) { _, _ in spec }
                    samples[route, default: [:]][name, default: RouteAccumulator()].c1.merge(measured)
                }
            }
        }

        // As in the paced-stream phase: streams start spread over one stream's length, the first not recorded.
        let streamLength = Duration.milliseconds(pacedDelayMs * pacedTokens)
        let stagger = streamLength / pacedConcurrency
        log("streamed routes, paced, c=\(pacedConcurrency) (\(rounds) rounds x \(routes.count) routes x \(names.count) targets x \(pacedSeconds) s)")
        for round in 0..<rounds {
            for route in rotated(routes, by: round) {
                let spec = route.request(token: Servers.token, tokens: pacedTokens)
                for name in rotated(names, by: round) {
                    let pids = servers.pids(name, .paced)
                    let cpuBefore = ProcessProbe.cpuSeconds(pids)
                    let (measured, _) = try await driver.run(
                        target: try servers.address(name, .paced), concurrency: pacedConcurrency, warmUp: streamLength,
                        duration: .milliseconds(Int(pacedSeconds * 1000)), stagger: stagger) { _, _ in spec }
                    let cpu = ProcessProbe.cpuSeconds(pids) - cpuBefore
                    samples[route, default: [:]][name, default: RouteAccumulator()].paced.merge(measured)
                    samples[route, default: [:]][name, default: RouteAccumulator()].pacedCPUSeconds += cpu
                }
            }
        }

        // Each route's stream must still be signed by the proxy under test, or its figures would not be
        // the cost of a signed stream.
        var verification = VerificationFigures(exchanges: 0, signaturesVerified: 0, detail: "")
        var details: [String] = []
        for route in routes {
            let checked = await ExchangeChecker(group: group, port: servers.port(Servers.signingProxy, .fast), token: Servers.token)
                .run(exchanges: 1, request: route.request(token: Servers.token, tokens: fastTokens))
            verification.exchanges += checked.exchanges
            verification.signaturesVerified += checked.signaturesVerified
            details.append("\(route.rawValue): \(checked.signaturesVerified) \(checked.detail)")
        }
        verification.detail = details.joined(separator: "; ")

        let method = """
            Streamed POST \(routes.map(\.path).joined(separator: ", ")) (stream: true; Messages with x-api-key), \
            the same token count per route (\(fastTokens) on the fast upstream, \(pacedTokens) on the paced one, \
            \(pacedDelayMs) ms apart). c=1 on the fast upstream: request written to the end of the stream and to \
            the first complete SSE event; paced at c=\(pacedConcurrency): time to first event, gaps, CPU of the \
            serving process per 1000 events. Added = target minus direct (percentile differences); ratios to chat \
            are this route's added figure over chat's, same target, same rounds.
            """
        return StreamedRoutesFigures(samples: samples, method: method, verification: verification)
    }
}
