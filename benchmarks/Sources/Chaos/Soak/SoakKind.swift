/// The kinds of client the soak mixes, with their share of the streams.
enum SoakKind: String, Codable, Sendable, CaseIterable {
    /// Streamed completion read to the end, on a new or a reused keep-alive connection.
    case stream
    /// JSON completion read to the end, on a new or a reused keep-alive connection.
    case json
    /// Streamed completion paced by the upstream (`mock_delay_ms`), read to the end.
    case pacedStream = "paced_stream"
    /// Streamed completion the client leaves (reset) at a random point; most leave just before `[DONE]`.
    case leaveStream = "leave_stream"
    /// JSON completion the client leaves right after the head or part-way through the body.
    case leaveJSON = "leave_json"
    /// Stream the upstream cuts after a random number of events (`mock_fail_after`).
    case upstreamCutStream = "upstream_cut_stream"
    /// JSON answer the upstream cuts after its head.
    case upstreamCutJSON = "upstream_cut_json"
    /// Large stream read slowly through a small window, `Connection: close`.
    case slowCloseStream = "slow_close_stream"
    /// Large JSON answer read slowly through a small window, `Connection: close`.
    case slowCloseJSON = "slow_close_json"
    /// Large stream read slowly, HTTP/1.0.
    case slowHTTP10Stream = "slow_http10_stream"
    /// Large JSON answer read slowly, HTTP/1.0.
    case slowHTTP10JSON = "slow_http10_json"
    /// One malformed or smuggling-shaped request (``MalformedCase``).
    case malformed

    /// Relative weight in the mix.
    var weight: Int {
        switch self {
        case .stream: 20
        case .json: 14
        case .pacedStream: 6
        case .leaveStream: 14
        case .leaveJSON: 4
        case .upstreamCutStream: 8
        case .upstreamCutJSON: 3
        case .slowCloseStream: 3
        case .slowCloseJSON: 3
        case .slowHTTP10Stream: 2
        case .slowHTTP10JSON: 2
        case .malformed: 8
        }
    }

    var isStream: Bool {
        switch self {
        case .stream, .pacedStream, .leaveStream, .upstreamCutStream, .slowCloseStream, .slowHTTP10Stream: true
        default: false
        }
    }

    /// The slow readers, run by clients of their own (a slow reader holds its client for seconds).
    var isSlowReader: Bool {
        switch self {
        case .slowCloseStream, .slowCloseJSON, .slowHTTP10Stream, .slowHTTP10JSON: true
        default: false
        }
    }

    /// Picks a kind by weight, among the slow readers or among the others.
    static func pick(_ random: inout SplitMix64, slowReader: Bool) -> SoakKind {
        let kinds = allCases.filter { $0.isSlowReader == slowReader }
        let total = kinds.reduce(0) { $0 + $1.weight }
        var roll = Int(random.next() % UInt64(total))
        for kind in kinds {
            if roll < kind.weight { return kind }
            roll -= kind.weight
        }
        return .stream
    }
}

/// A small seeded generator, so a soak's mix can be replayed (`--seed`).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &self)
    }

    mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }
}
