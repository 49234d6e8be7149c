import Foundation

/// The soak's result, as written to JSON (`results/soak-latest.json`).
struct SoakReport: Encodable {
    struct KindFigures: Codable {
        var streams = 0
        var completed = 0
        var verdicts: [String: Int] = [:]
    }

    struct Memory: Codable {
        var idleBytes = 0
        var peakBytes = 0
        var afterLoadBytes = 0
        var afterTTLBytes = 0
        /// afterTTL − idle.
        var afterTTLOverIdleBytes = 0
        /// How near idle counts as "returned" (bytes over idle).
        var nearIdleToleranceBytes = 0
        var returnedNearIdle = false
        var series: [RSSSampler.Sample] = []
    }

    var tool = "chaos soak"
    var startedAt = ""
    var binDir = ""
    var settings: [String: String] = [:]
    var durationSeconds = 0.0
    var loadSeconds = 0.0
    var streams = 0
    var totals: [String: Int] = [:]
    var byKind: [String: KindFigures] = [:]
    /// Streams of kinds that should complete (plain, paced, slow readers) that did not.
    var expectedCompleteButIncomplete = 0
    /// Ids received by more than one client.
    var duplicateIDs = 0
    /// Complete answers whose id the upstream gave to a different request body (an answer for someone else).
    var answersForAnotherRequest = 0
    /// Complete answers whose id the upstream never logged.
    var idsUnknownToUpstream = 0
    var upstreamRequestsLogged = 0
    var signingAddresses: [String: String] = [:]
    var malformed: [String: MalformedTally] = [:]
    var memory = Memory()
    var proxyMetrics: [String: Double] = [:]
    /// The first streams of each problem class, for diagnosis.
    var examples: [StreamRecord] = []
    var failures: [String] = []
    var pass: Bool { failures.isEmpty }

    enum CodingKeys: String, CodingKey {
        case tool, startedAt, binDir, settings, durationSeconds, loadSeconds, streams, totals, byKind,
            expectedCompleteButIncomplete, duplicateIDs, answersForAnotherRequest, idsUnknownToUpstream,
            upstreamRequestsLogged, signingAddresses, malformed, memory, proxyMetrics, examples, failures, pass
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tool, forKey: .tool)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(binDir, forKey: .binDir)
        try container.encode(settings, forKey: .settings)
        try container.encode(durationSeconds, forKey: .durationSeconds)
        try container.encode(loadSeconds, forKey: .loadSeconds)
        try container.encode(streams, forKey: .streams)
        try container.encode(totals, forKey: .totals)
        try container.encode(byKind, forKey: .byKind)
        try container.encode(expectedCompleteButIncomplete, forKey: .expectedCompleteButIncomplete)
        try container.encode(duplicateIDs, forKey: .duplicateIDs)
        try container.encode(answersForAnotherRequest, forKey: .answersForAnotherRequest)
        try container.encode(idsUnknownToUpstream, forKey: .idsUnknownToUpstream)
        try container.encode(upstreamRequestsLogged, forKey: .upstreamRequestsLogged)
        try container.encode(signingAddresses, forKey: .signingAddresses)
        try container.encode(malformed, forKey: .malformed)
        try container.encode(memory, forKey: .memory)
        try container.encode(proxyMetrics, forKey: .proxyMetrics)
        try container.encode(examples, forKey: .examples)
        try container.encode(failures, forKey: .failures)
        try container.encode(pass, forKey: .pass)
    }

    /// The summary printed on stdout.
    func table() -> String {
        func mb(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_048_576) }
        var lines: [String] = []
        lines.append("chaos soak: \(streams) streams in \(String(format: "%.0f", loadSeconds)) s of load (\(String(format: "%.0f", durationSeconds)) s in all), proxy \(binDir)")
        lines.append("")
        let verdicts = SignatureVerdict.allCases.map(\.rawValue)
        let header = ["kind", "streams", "completed"] + verdicts
        var rows = [header]
        for kind in SoakKind.allCases where kind != .malformed {
            guard let figures = byKind[kind.rawValue] else { continue }
            rows.append([kind.rawValue, "\(figures.streams)", "\(figures.completed)"] + verdicts.map { "\(figures.verdicts[$0] ?? 0)" })
        }
        rows.append(["total", "\(totals["streams"] ?? 0)", "\(totals["completed"] ?? 0)"] + verdicts.map { "\(totals[$0] ?? 0)" })
        lines += Self.align(rows)
        lines.append("")
        lines.append("wrong \(totals["wrong"] ?? 0), missing \(totals["missing"] ?? 0), published late \(totals["published_late"] ?? 0), signed-but-undelivered \(totals["signed_but_undelivered"] ?? 0); answers for another request \(answersForAnotherRequest), duplicate ids \(duplicateIDs), ids unknown upstream \(idsUnknownToUpstream); expected complete but not \(expectedCompleteButIncomplete)")
        lines.append("")
        var caseRows = [["malformed case", "runs", "passed", "foreign", "closed", "statuses", "first problem"]]
        for (name, tally) in malformed.sorted(by: { $0.key < $1.key }) {
            let statuses = tally.statuses.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
            caseRows.append([name, "\(tally.runs)", "\(tally.passed)", "\(tally.foreignAnswers)", "\(tally.closed)", statuses, tally.firstProblem ?? ""])
        }
        lines += Self.align(caseRows)
        lines.append("")
        lines.append("proxy RSS: idle \(mb(memory.idleBytes)), peak \(mb(memory.peakBytes)), after load \(mb(memory.afterLoadBytes)), after TTL \(mb(memory.afterTTLBytes)) (\(memory.returnedNearIdle ? "near idle" : "NOT near idle"): +\(mb(memory.afterTTLOverIdleBytes)), tolerance \(mb(memory.nearIdleToleranceBytes)))")
        lines.append(pass ? "PASS" : "FAIL: " + failures.joined(separator: "; "))
        return lines.joined(separator: "\n")
    }

    static func align(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: width)
        for row in rows {
            for (index, cell) in row.enumerated() where index < row.count - 1 || row.count < width {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
