import ArgumentParser
import Foundation
import SigningProxyVerifier

/// Prints a verification report as a checklist or JSON and turns its verdict into the exit status.
enum VerificationPrinter {
    /// One check as printed with `--json`.
    private struct JSONCheck: Encodable {
        var id: String
        var status: String
        var detail: String
    }

    /// Prints `report`; throws `ExitCode(1)` when a mandatory check failed.
    static func finish(_ report: VerificationReport, json: Bool) throws {
        if json {
            // `ok` first, then the checks, whatever order the encoder picks for keys.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let checks = report.checks.map { JSONCheck(id: $0.id, status: $0.status.rawValue, detail: $0.detail) }
            let array = String(decoding: try encoder.encode(checks), as: UTF8.self)
            print("{\n  \"ok\" : \(report.ok),\n  \"checks\" : " + array.replacingOccurrences(of: "\n", with: "\n  ") + "\n}")
        } else {
            print(checklist(report))
        }
        if !report.ok { throw ExitCode(1) }
    }

    /// One line per check, then the verdict.
    static func checklist(_ report: VerificationReport) -> String {
        let width = min(36, report.checks.map(\.id.count).max() ?? 0)
        var lines = report.checks.map { check -> String in
            let mark =
                switch check.status {
                case .pass: "✔"
                case .fail: "✘"
                case .skip: "–"
                }
            let note = check.status == .fail && !check.mandatory ? " (advisory)" : ""
            let padded = check.id.padding(toLength: max(width, check.id.count), withPad: " ", startingAt: 0)
            return "\(mark) \(padded)  \(check.detail)\(note)"
        }
        let passed = report.checks.filter { $0.status == .pass }.count
        let skipped = report.checks.filter { $0.status == .skip }.count
        let failures = report.failures.map(\.id)
        lines.append("")
        if failures.isEmpty {
            lines.append("OK: \(passed) passed, \(skipped) skipped, no mandatory check failed")
        } else {
            lines.append("FAILED: \(failures.joined(separator: ", ")) (\(passed) passed, \(skipped) skipped)")
        }
        return lines.joined(separator: "\n")
    }
}
