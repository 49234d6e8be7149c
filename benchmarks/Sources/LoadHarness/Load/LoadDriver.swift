import NIOCore
import NIOPosix

/// Runs closed-loop load: `concurrency` workers, each on its own keep-alive connection.
struct LoadDriver: Sendable {
    let group: MultiThreadedEventLoopGroup

    /// Sends requests from `concurrency` connections until `duration` has passed (after `warmUp`,
    /// not recorded) or each has sent `maxRequestsPerWorker`; returns the merged samples and the
    /// measured window in seconds. Worker `i` connects after `i × stagger`.
    func run(
        target: SocketAddress,
        concurrency: Int,
        warmUp: Duration,
        duration: Duration,
        maxRequestsPerWorker: Int = .max,
        captureIDs: Int = 0,
        stagger: Duration = .zero,
        request: @escaping @Sendable (_ worker: Int, _ index: Int) -> RequestSpec
    ) async throws -> (samples: WorkerSamples, seconds: Double) {
        let start = NIODeadline.now()
        let recordFrom = start + .nanoseconds(warmUp.nanoseconds)
        let deadline = recordFrom + .nanoseconds(duration.nanoseconds)
        let futures = (0..<concurrency).map { workerIndex in
            let plan = WorkerPlan(
                request: { request(workerIndex, $0) },
                deadline: deadline,
                recordFrom: recordFrom,
                maxRequests: maxRequestsPerWorker,
                captureIDs: captureIDs,
                startDelay: stagger * workerIndex
            )
            return LoadWorker(eventLoop: group.next(), target: target, plan: plan).run()
        }
        var merged = WorkerSamples()
        for future in futures {
            merged.merge(try await future.get())
        }
        let end = NIODeadline.now()
        let measured = end > recordFrom ? end - recordFrom : .nanoseconds(1)
        return (merged, Double(measured.nanoseconds) / 1e9)
    }
}

extension Duration {
    /// Whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled + attoseconds / 1_000_000_000
    }
}
