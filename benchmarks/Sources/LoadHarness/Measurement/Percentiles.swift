/// Summary of a sample of nanosecond durations.
struct Percentiles: Codable, Sendable {
    var count: Int
    var p50Microseconds: Double
    var p90Microseconds: Double
    var p99Microseconds: Double
    var maxMicroseconds: Double

    /// Nearest-rank percentiles of `samples` (nanoseconds), reported in microseconds.
    init(_ samples: [Int64]) {
        let sorted = samples.sorted()
        count = sorted.count
        func rank(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let index = min(sorted.count - 1, max(0, Int((p * Double(sorted.count)).rounded(.up)) - 1))
            return Double(sorted[index]) / 1_000
        }
        p50Microseconds = rank(0.50)
        p90Microseconds = rank(0.90)
        p99Microseconds = rank(0.99)
        maxMicroseconds = Double(sorted.last ?? 0) / 1_000
    }
}
