/// One target's samples over every round of every phase.
struct PhaseAccumulator: Sendable {
    var latency = WorkerSamples()
    var throughput = WorkerSamples()
    var throughputSeconds = 0.0
    /// Cores used by the serving process(es) and by the load generator, per throughput slice.
    var throughputServerCores: [Double] = []
    var throughputGeneratorCores: [Double] = []
    var paced = WorkerSamples()
    var pacedCPUSeconds = 0.0

    var figures: TargetFigures {
        TargetFigures(
            latencyC1: Percentiles(latency.latencies),
            requestsPerSecondC64: throughputSeconds > 0 ? Double(throughput.completed) / throughputSeconds : 0,
            serverCoresC64: Self.mean(throughputServerCores),
            loadGeneratorCoresC64: Self.mean(throughputGeneratorCores),
            timeToFirstEvent: Percentiles(paced.firstEvent),
            interEventGap: Percentiles(paced.gaps),
            pacedEvents: paced.events,
            cpuMillisecondsPer1000Events: paced.allEvents > 0 ? pacedCPUSeconds * 1_000 * 1_000 / Double(paced.allEvents) : 0,
            errors: [latency, throughput, paced].reduce(0) { $0 + $1.errors + $1.badStatus }
        )
    }

    private static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
