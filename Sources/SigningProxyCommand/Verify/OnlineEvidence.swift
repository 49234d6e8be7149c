import SigningProxyVerifier

/// The online steps a user asked for on one attestation report (collateral, NRAS), and what failed.
struct OnlineEvidence {
    var collateralFailure: String?
    var nrasFailure: String?
    /// A usage error found while gathering (e.g. an unreadable `--collateral` directory).
    var usageError: (any Error)?

    /// Loads or fetches what `collateral` and `nras` ask for, for the report entry of `signingAddress`,
    /// and stores it in `options`. `cache` keeps fetched collateral across reports of the same platform.
    static func gather(
        for attestation: [UInt8], signingAddress: String?, collateral: VerifyCollateralOptions, nras: VerifyNRASOptions,
        cache: CollateralCache? = nil, into options: inout VerificationOptions
    ) async -> OnlineEvidence {
        var evidence = OnlineEvidence()
        let request = ResponseVerifier.collateralRequest(forAttestation: attestation, signingAddress: signingAddress)
        do {
            let result: Result<QuoteCollateral, PCSClient.Failure>?
            if let cache, let request, let cached = await cache.get(request) {
                result = .success(cached)
            } else {
                result = try await collateral.collateral(for: request)
            }
            switch result {
            case .success(let fetched)?:
                options.collateral = fetched
                if let cache, let request { await cache.set(fetched, for: request) }
            case .failure(let failure)?:
                evidence.collateralFailure = "Intel collateral could not be fetched: \(failure.description)"
            case nil:
                break
            }
        } catch {
            evidence.usageError = error
        }
        switch await nras.attestation(for: attestation, signingAddress: signingAddress) {
        case .success(let answer)?: options.nras = answer
        case .failure(let failure)?: evidence.nrasFailure = "NVIDIA NRAS could not be asked: \(failure.description)"
        case nil: break
        }
        return evidence
    }

    /// `report` with the checks of failed online steps failing with their reason.
    func apply(to report: VerificationReport) throws -> VerificationReport {
        if let usageError { throw usageError }
        var result = report
        if let collateralFailure { result = OnlineFailure.mark(result, ids: OnlineFailure.collateralChecks, reason: collateralFailure) }
        if let nrasFailure { result = OnlineFailure.mark(result, ids: OnlineFailure.nrasChecks, reason: nrasFailure) }
        return result
    }
}
