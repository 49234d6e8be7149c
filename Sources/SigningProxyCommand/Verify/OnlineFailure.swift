import SigningProxyVerifier

/// Reports an online step that was asked for but failed: the checks it feeds fail with the reason
/// instead of being skipped.
enum OnlineFailure {
    static let collateralChecks = ["dcap.tcb-status", "dcap.revocation"]
    static let nrasChecks = ["gpu.nras"]

    /// `report` with every skipped check among `ids` (with any `prefix/`) turned into a failure.
    static func mark(_ report: VerificationReport, ids: [String], reason: String) -> VerificationReport {
        VerificationReport(checks: report.checks.map { check in
            let bare = check.id.split(separator: "/").last.map(String.init) ?? check.id
            guard ids.contains(bare), check.status == .skip else { return check }
            return .init(id: check.id, status: .fail, detail: reason, mandatory: true)
        })
    }
}
