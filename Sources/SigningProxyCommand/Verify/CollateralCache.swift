import SigningProxyVerifier

/// Collateral fetched during one `verify chat` run, per platform, so two reports fetch it once.
actor CollateralCache {
    private var entries: [CollateralRequest: QuoteCollateral] = [:]

    func get(_ request: CollateralRequest) -> QuoteCollateral? { entries[request] }

    func set(_ collateral: QuoteCollateral, for request: CollateralRequest) { entries[request] = collateral }
}
