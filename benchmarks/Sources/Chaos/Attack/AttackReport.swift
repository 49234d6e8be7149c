import Foundation

/// Every reproducer's figures and verdicts, as written to JSON (`results/attack-latest.json`).
struct AttackReport: Encodable {
    /// One line of the summary: a reproducer, its headline figure, pass or fail.
    struct Row: Codable {
        var reproducer: String
        var figure: String
        var pass: Bool
    }

    var tool = "chaos attack"
    var startedAt = ""
    var binDir = ""
    var proxyEnvironment: [String] = []
    var openFileLimit = 0
    var durationSeconds = 0.0
    var smuggling: [SmugglingResult] = []
    var malformed: [MalformedOutcome] = []
    var slowReader: SlowReaderResult?
    var expectContinue: ExpectContinueResult?
    var leak: [ConnectionLeakResult] = []
    var pinning: MemoryPinningResult?
    var slowClientsEnvironment: [String: String]?
    var slowClients: SlowClientsResult?
    var connectionCap: [ConnectionCapResult] = []
    var skipped: [String] = []
    var summary: [Row] = []
    var pass = false

    mutating func summarize() {
        func mb(_ bytes: Int) -> String { String(format: "%+.1f MB", Double(bytes) / 1_048_576) }
        var rows: [Row] = []
        for result in smuggling {
            rows.append(
                Row(
                    reproducer: "smuggling via GET /v1/models body (\(result.upstream))",
                    figure: "attacker got \(result.attackerStatuses); upstream saw \(result.upstreamRequestsFromAttack) request(s) from it (smuggled POST reached it: \(result.smuggledRequestReachedUpstream)); victims given another's answer \(result.victimsGivenAnotherAnswer)/\(result.victims) (signed and verifying: \(result.foreignAnswersSignedAndVerifying)); attacker got a victim's completion \(result.attackerGotVictimCompletion)",
                    pass: result.pass))
        }
        for result in malformed {
            let upstream = result.upstreamRequests.map { ", upstream \($0)" } ?? ""
            rows.append(
                Row(
                    reproducer: "malformed: \(result.name)",
                    figure: "statuses \(result.statuses), closed \(result.closed)\(result.closedMs.map { String(format: " after %.0f ms", $0) } ?? "")\(upstream)\(result.problems.isEmpty ? "" : "; " + result.problems.joined(separator: "; "))",
                    pass: result.pass))
        }
        if let slowReader {
            for mode in slowReader.modes {
                rows.append(
                    Row(
                        reproducer: "slow reader: \(mode.name)",
                        figure: "\(mode.complete)/\(mode.runs) complete; verdicts \(mode.verdicts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")); bytes \(mode.bytesMin)...\(mode.bytesMax)",
                        pass: mode.pass))
            }
        }
        if let expectContinue {
            let times = expectContinue.secondsToContinue.map { String(format: "%.3f", $0) }.joined(separator: ", ")
            rows.append(
                Row(
                    reproducer: "Expect: 100-continue, \(expectContinue.bodyBytes >> 20) MiB body",
                    figure: "\(expectContinue.continued)/\(expectContinue.runs) got 100 within \(expectContinue.waitSeconds) s [\(times)]; final \(expectContinue.finalStatuses)",
                    pass: expectContinue.pass))
        }
        for result in leak {
            let steps = result.steps.map { "\($0.cycles): \(mb($0.overStartBytes))" }.joined(separator: ", ")
            rows.append(
                Row(
                    reproducer: "connection leak: \(result.kind)",
                    figure: "RSS from \(result.startBytes >> 20) MB: \(steps) (\(String(format: "%.0f", result.bytesPerCycle)) B/cycle; failed \(result.failedCycles))",
                    pass: result.pass))
        }
        if let pinning {
            rows.append(
                Row(
                    reproducer: "memory pinning: \(pinning.connections) x \(pinning.bodyBytes) B unauthenticated",
                    figure: "RSS \(pinning.beforeBytes >> 20) MB → \(pinning.duringBytes >> 20) MB while held → \(pinning.afterBytes >> 20) MB after; body bytes sent \(pinning.targets.map { "\($0.request.split(separator: " ").prefix(2).joined(separator: " ")): \($0.bytesAccepted >> 20) MB \($0.statuses)" }.joined(separator: "; "))",
                    pass: pinning.pass))
        }
        if let slowClients {
            for group in slowClients.groups {
                rows.append(
                    Row(
                        reproducer: "slow clients: \(group.name)",
                        figure: "\(group.closed)/\(group.opened) closed in \(slowClients.observeSeconds) s (within \(group.boundSeconds) s: \(group.closedWithinBound)); p50 \(group.closeSecondsP50.map { String(format: "%.1f s", $0) } ?? "-"), max \(group.closeSecondsMax.map { String(format: "%.1f s", $0) } ?? "-"); answers \(group.answered)",
                        pass: group.pass))
            }
            rows.append(
                Row(
                    reproducer: "slow clients: /health meanwhile",
                    figure: "\(slowClients.healthAnswered)/\(slowClients.healthAsked) answered, worst \(String(format: "%.3f", slowClients.healthWorstSeconds)) s",
                    pass: slowClients.healthAnswered == slowClients.healthAsked))
        }
        for result in connectionCap {
            rows.append(
                Row(
                    reproducer: "connections: \(result.scenario)",
                    figure: "\(result.heldOpened) held; \(result.extra) more: answers \(result.extraStatuses), closed without answer \(result.extraClosedWithoutAnswer), hanging \(result.extraHanging) after \(result.waitSeconds) s; after release /health \(result.afterReleaseStatus.map(String.init) ?? "none")",
                    pass: result.pass))
        }
        summary = rows
        pass = rows.allSatisfy(\.pass)
    }

    func table() -> String {
        var lines = ["chaos attack: proxy \(binDir), \(String(format: "%.0f", durationSeconds)) s"]
        for row in summary {
            lines.append("\(row.pass ? "pass" : "FAIL")  \(row.reproducer)")
            lines.append("      \(row.figure)")
        }
        for skip in skipped { lines.append("skip  \(skip)") }
        lines.append(pass ? "PASS" : "FAIL: \(summary.filter { !$0.pass }.count) of \(summary.count) failed")
        return lines.joined(separator: "\n")
    }
}
