/// One target's samples on one route, over every round of the streamed-routes phase.
struct RouteAccumulator: Sendable {
    var c1 = WorkerSamples()
    var paced = WorkerSamples()
    var pacedCPUSeconds = 0.0

    var figures: StreamedRoutesFigures.Target {
        StreamedRoutesFigures.Target(
            streamLatencyC1: Percentiles(c1.latencies),
            timeToFirstEventC1: Percentiles(c1.firstEvent),
            pacedTimeToFirstEvent: Percentiles(paced.firstEvent),
            pacedInterEventGap: Percentiles(paced.gaps),
            pacedEvents: paced.events,
            cpuMillisecondsPer1000Events: paced.allEvents > 0 ? pacedCPUSeconds * 1_000 * 1_000 / Double(paced.allEvents) : 0,
            errors: [c1, paced].reduce(0) { $0 + $1.errors + $1.badStatus }
        )
    }

    /// Complete events per completed stream, c=1 and paced.
    var eventsPerStream: (fast: Double, paced: Double) {
        (
            c1.completed > 0 ? Double(c1.events) / Double(c1.completed) : 0,
            paced.completed > 0 ? Double(paced.events) / Double(paced.completed) : 0
        )
    }
}
