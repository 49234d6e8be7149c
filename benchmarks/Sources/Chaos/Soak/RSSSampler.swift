import Foundation
import HarnessSupport
import Synchronization

/// Samples a process's resident memory (VmRSS) on a steady period, in its own thread, until stopped.
final class RSSSampler: Sendable {
    /// One sample: seconds since the sampler started, and resident bytes.
    struct Sample: Codable, Sendable {
        var t: Double
        var rssBytes: Int
    }

    let pid: Int32
    let period: Duration
    private let samples = Mutex<[Sample]>([])
    private let running = Atomic<Bool>(true)
    private let done = DispatchSemaphore(value: 0)

    init(pid: Int32, period: Duration = .seconds(1)) {
        self.pid = pid
        self.period = period
        let start = ContinuousClock.now
        let thread = Thread { [self] in
            while running.load(ordering: .relaxed) {
                if let bytes = ProcessProbe.residentBytes(pid) {
                    let sample = Sample(t: (ContinuousClock.now - start).seconds, rssBytes: bytes)
                    samples.withLock { $0.append(sample) }
                }
                Thread.sleep(forTimeInterval: period.seconds)
            }
            done.signal()
        }
        thread.start()
    }

    var series: [Sample] { samples.withLock { $0 } }

    var peak: Int { series.map(\.rssBytes).max() ?? 0 }

    func stop() {
        guard running.exchange(false, ordering: .relaxed) else { return }
        done.wait()
    }
}
