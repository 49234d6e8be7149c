import ArgumentParser
import Foundation
import SigningProxyVerifier

/// Intel collateral for the TCB status and revocation checks, shared by every `verify` subcommand.
/// Without `--collateral` or `--fetch-collateral` those checks are skipped, never passed.
struct VerifyCollateralOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Directory with Intel collateral (offline).",
            discussion: """
                Files: tcb_info.json and qe_identity.json (PCS v4 answers, unchanged), tcb_info_issuer_chain.pem and \
                qe_identity_issuer_chain.pem (the issuer-chain headers, URL-decoded), and optionally pck_crl.der, \
                pck_crl_issuer_chain.pem and root_ca_crl.der (without the CRLs, revocation is skipped).
                """,
            valueName: "dir"))
    var collateral: String?

    @Flag(help: "Fetch Intel collateral online from Intel PCS v4 (or --pccs-url) for the quote's FMSPC.")
    var fetchCollateral = false

    @Option(help: ArgumentHelp("Base URL of a PCCS to fetch from instead of Intel PCS.", valueName: "url"))
    var pccsUrl: String?

    @Option(help: ArgumentHelp("Store fetched collateral in this directory (the --collateral layout).", valueName: "dir"))
    var saveCollateral: String?

    @Option(
        name: .customLong("allow-tcb-status"),
        help: ArgumentHelp(
            "Accept this TCB status besides UpToDate (repeatable): SWHardeningNeeded, ConfigurationNeeded, "
                + "ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded. Revoked is never accepted.",
            valueName: "status"))
    var allowTcbStatus: [String] = []

    @Option(help: ArgumentHelp("Verify as of this time (RFC 3339, e.g. 2026-10-15T00:00:00Z) instead of now, for recorded evidence.", valueName: "time"))
    var at: String?

    func validate() throws {
        if collateral != nil, fetchCollateral {
            throw ValidationError("--collateral and --fetch-collateral exclude each other")
        }
        if !fetchCollateral, pccsUrl != nil || saveCollateral != nil {
            throw ValidationError("--pccs-url and --save-collateral need --fetch-collateral")
        }
        _ = try acceptedStatuses()
        _ = try now()
    }

    /// The statuses named by `--allow-tcb-status`.
    func acceptedStatuses() throws -> Set<TCBStatus> {
        var statuses: Set<TCBStatus> = []
        for name in allowTcbStatus {
            guard let status = TCBStatus.allCases.first(where: { $0.rawValue.lowercased() == name.lowercased() }), status != .revoked else {
                throw ValidationError("--allow-tcb-status \(name): not a TCB status that can be accepted")
            }
            statuses.insert(status)
        }
        return statuses
    }

    /// The verification time: `--at`, else now.
    func now() throws -> Date {
        guard let at else { return Date() }
        guard let date = ISO8601DateFormatter().date(from: at) else {
            throw ValidationError("--at \(at): not an RFC 3339 time such as 2026-10-15T00:00:00Z")
        }
        return date
    }

    /// Applies the time and TCB policy to `options`.
    func configure(_ options: inout VerificationOptions) throws {
        options.now = try now()
        options.acceptedTCBStatuses = try acceptedStatuses()
    }

    /// The collateral to verify with: read from `--collateral`, or fetched for `request`; nil when
    /// neither option was given. A directory that cannot be read is a usage error (thrown).
    func collateral(for request: CollateralRequest?) async throws -> Result<QuoteCollateral, PCSClient.Failure>? {
        if let collateral {
            do {
                return .success(try CollateralDirectory.load(collateral))
            } catch {
                throw ValidationError(error.description)
            }
        }
        guard fetchCollateral else { return nil }
        guard let request else {
            return .failure(.init(description: "no FMSPC: the quote's PCK certificate could not be read"))
        }
        do {
            let fetched = try await PCSClient(pccsURL: pccsUrl).fetch(request)
            if let saveCollateral { try CollateralDirectory.save(fetched, to: saveCollateral) }
            return .success(fetched)
        } catch let failure as PCSClient.Failure {
            return .failure(failure)
        }
    }
}
