/// The E2EE state of one request: which dialect, with its checked headers and keys.
package enum E2EERequestContext: Sendable {
    case dv(DVContext)
    case near(NearContext)
    case legacyV1(LegacyV1Context)
    case aci(ACIContext)

    /// Detects the dialect (docs/E2EE.md, "Dispatch") and checks the headers; `nil` for a plaintext request.
    ///
    /// - Parameters:
    ///   - keys: the DV/NEAR keys (secp256k1 signing key, ed25519 seed).
    ///   - keyset: ACI's `e2ee_public_keys` with their secrets (empty: ACI requests get `e2ee_model_key_mismatch`).
    ///   - now: Unix seconds (ACI checks the timestamp here; DV when it claims the nonce).
    ///   - window: how far ACI's timestamp may be from `now` (`E2EE_REPLAY_WINDOW_SECONDS`).
    package static func parse(
        _ headers: E2EEHeaders, keys: E2EEServerKeys, keyset: [ACIKey], now: Int64, window: Int64 = ACIContext.window
    ) throws(E2EEError) -> Self? {
        guard let dialect = try E2EEDialect.detect(headers) else { return nil }
        switch dialect {
        case .dvV1: return .dv(try DVContext(headers: headers, version: 1, keys: keys))
        case .dvV2: return .dv(try DVContext(headers: headers, version: 2, keys: keys))
        case .nearV1: return .near(try NearContext(headers: headers, version: 1, keys: keys))
        case .nearV2: return .near(try NearContext(headers: headers, version: 2, keys: keys))
        case .aciV2: return .aci(try ACIContext(headers: headers, keyset: keyset, now: now, window: window))
        case .legacyV1:
            if headers.modelPublicKey == nil {
                return .near(try NearContext(headers: headers, version: 1, keys: keys))
            }
            let dv = try DVContext(headers: headers, version: 1, keys: keys)
            let near: NearContext
            do { near = try NearContext(headers: headers, version: 1, keys: keys) } catch {
                throw .invalidPublicKey(.dv)
            }
            return .legacyV1(LegacyV1Context(dv: dv, near: near))
        }
    }

    /// Whose error vocabulary answers this exchange's faults (the shared v1 answers as DV does).
    var family: E2EEError.Family {
        switch self {
        case .dv, .legacyV1: .dv
        case .near: .near
        case .aci: .aci
        }
    }
}
