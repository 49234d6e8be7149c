/// What one load worker measured; merged across workers and rounds for a target.
///
/// Durations are nanoseconds on the monotonic clock.
struct WorkerSamples: Sendable {
    /// Request written to response end, per completed request.
    var latencies: [Int64] = []
    /// Request written to the first complete SSE event, per streamed response.
    var firstEvent: [Int64] = []
    /// Gaps between consecutive complete SSE events of one response.
    var gaps: [Int64] = []
    var completed = 0
    /// Complete SSE events of recorded responses.
    var events = 0
    /// Complete SSE events of every response, warm-up included (set against CPU time of the whole run).
    var allEvents = 0
    var bodyBytes = 0
    /// Connection failures and cut responses.
    var errors = 0
    /// Responses with a status other than 200.
    var badStatus = 0
    /// `id` values of the first JSON responses, kept when the plan asks for them.
    var capturedIDs: [String] = []

    mutating func merge(_ other: WorkerSamples) {
        latencies += other.latencies
        firstEvent += other.firstEvent
        gaps += other.gaps
        completed += other.completed
        events += other.events
        allEvents += other.allEvents
        bodyBytes += other.bodyBytes
        errors += other.errors
        badStatus += other.badStatus
        capturedIDs += other.capturedIDs
    }
}
