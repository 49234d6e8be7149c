/// Collects checks while a verification runs.
struct CheckList {
    private(set) var checks: [VerificationReport.Check] = []

    mutating func pass(_ id: String, _ detail: String, mandatory: Bool = true) {
        checks.append(.init(id: id, status: .pass, detail: detail, mandatory: mandatory))
    }

    mutating func fail(_ id: String, _ detail: String, mandatory: Bool = true) {
        checks.append(.init(id: id, status: .fail, detail: detail, mandatory: mandatory))
    }

    mutating func skip(_ id: String, _ detail: String, mandatory: Bool = true) {
        checks.append(.init(id: id, status: .skip, detail: detail, mandatory: mandatory))
    }

    /// Pass when `condition` holds, else fail.
    mutating func expect(_ condition: Bool, _ id: String, pass: String, fail: String, mandatory: Bool = true) {
        condition ? self.pass(id, pass, mandatory: mandatory) : self.fail(id, fail, mandatory: mandatory)
    }

    mutating func append(contentsOf other: CheckList) {
        checks += other.checks
    }

    var report: VerificationReport { VerificationReport(checks: checks) }
}
