/// One target's samples over every round of every phase.
struct PhaseAccumulator: Sendable {
    var latency = WorkerSamples()
    var throughput = WorkerSamples()
    var throughputSeconds = 0.0
    var paced = WorkerSamples()
    var pacedCPUSeconds = 0.0

    var figures: TargetFigures {
        TargetFigures(
            latencyC1: Percentiles(latency.latencies),
            requestsPerSecondC64: throughputSeconds > 0 ? Double(throughput.completed) / throughputSeconds : 0,
            timeToFirstEvent: Percentiles(paced.firstEvent),
            interEventGap: Percentiles(paced.gaps),
            pacedEvents: paced.events,
            cpuMillisecondsPer1000Events: paced.allEvents > 0 ? pacedCPUSeconds * 1_000 * 1_000 / Double(paced.allEvents) : 0,
            errors: [latency, throughput, paced].reduce(0) { $0 + $1.errors + $1.badStatus }
        )
    }
}
