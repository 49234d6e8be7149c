/// The outcome of a verification: every check that ran, with its status and reason.
///
/// `ok` is true when no mandatory check failed. Skipped checks never make a report fail, and never
/// count as passed: read their `detail` to learn what was not verified (for instance TCB status,
/// which needs Intel collateral).
public struct VerificationReport: Sendable, Hashable, Codable {
    /// One check: an id such as `dcap.quote-signature`, a status and why.
    public struct Check: Sendable, Hashable, Codable {
        /// Result of a single check.
        public enum Status: String, Sendable, Hashable, Codable {
            /// Verified.
            case pass
            /// Verified to be wrong, or could not be verified because an input was wrong.
            case fail
            /// Not checked: an input or a pinned value was not given, or the check needs the network.
            case skip
        }

        /// Stable identifier, e.g. `signature.ecdsa` or `measurements.rtmr-replay`.
        public var id: String
        /// Pass, fail or skip.
        public var status: Status
        /// Human-readable reason for the status.
        public var detail: String
        /// Whether a failure of this check makes the whole report fail.
        public var mandatory: Bool

        /// Creates a check result.
        public init(id: String, status: Status, detail: String, mandatory: Bool = true) {
            self.id = id
            self.status = status
            self.detail = detail
            self.mandatory = mandatory
        }
    }

    /// Every check in the order it ran.
    public var checks: [Check]

    /// Creates a report from checks.
    public init(checks: [Check]) {
        self.checks = checks
    }

    /// True when no mandatory check failed.
    public var ok: Bool {
        !checks.contains { $0.mandatory && $0.status == .fail }
    }

    /// The first check with `id`, if it ran.
    public func check(_ id: String) -> Check? {
        checks.first { $0.id == id }
    }

    /// Mandatory checks that failed.
    public var failures: [Check] {
        checks.filter { $0.mandatory && $0.status == .fail }
    }

    /// This report followed by `other`'s checks, their ids prefixed with `prefix` (e.g. `ed25519/`).
    public func appending(_ other: VerificationReport, prefix: String = "") -> VerificationReport {
        VerificationReport(checks: checks + other.checks.map { check in
            var check = check
            check.id = prefix + check.id
            return check
        })
    }

    private enum CodingKeys: String, CodingKey {
        case ok
        case checks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        checks = try container.decode([Check].self, forKey: .checks)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(checks, forKey: .checks)
    }
}
