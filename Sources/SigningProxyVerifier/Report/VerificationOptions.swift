#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the caller expects and pins. Everything is optional: a check whose expectation is not given
/// is reported as `skip` with the reason, never as `pass`.
public struct VerificationOptions: Sendable {
    /// The model name a format-B signed text (`model:req:resp`) must carry.
    public var expectedModel: String?
    /// The app-compose document the user reviewed; must equal `info.tcb_info.app_compose` byte for byte.
    public var composeFile: [UInt8]?
    /// The dstack KMS root public key (secp256k1, 33-byte compressed, hex) that must have issued the app key.
    public var kmsRootPublicKey: String?
    /// The expected dstack app id (20 bytes, hex).
    public var expectedAppID: String?
    /// Reject reports whose report_data is not bound to a TLS certificate fingerprint.
    public var requireTLSBinding: Bool
    /// SHA-256 of the SubjectPublicKeyInfo DER of the server certificate seen on the TLS connection that
    /// was used; when given, a TLS-bound report must carry exactly this fingerprint.
    public var observedTLSFingerprint: [UInt8]?
    /// Expected MRTD and RTMR0–2 of the dstack OS image (`dstack-mr` output).
    public var expectedMeasurements: ExpectedMeasurements?
    /// Fail when the report carries no GPU evidence report.
    public var requireGPUEvidence: Bool
    /// The time at which certificates must be valid and collateral current.
    public var now: Date
    /// Intel collateral for the quote's platform. Without it `dcap.tcb-status` and `dcap.revocation`
    /// are reported as `skip`, never as `pass`.
    public var collateral: QuoteCollateral?
    /// TCB statuses accepted besides ``TCBStatus/upToDate`` (e.g. `.outOfDate`); they are still reported
    /// with their advisory ids. ``TCBStatus/revoked`` is never accepted.
    public var acceptedTCBStatuses: Set<TCBStatus>
    /// NVIDIA NRAS's answer for the report's GPU evidence, with NRAS's signing keys. Without it
    /// `gpu.nras` is reported as `skip`.
    public var nras: NRASAttestation?

    /// Creates options; every argument defaults to "not given".
    public init(
        expectedModel: String? = nil,
        composeFile: [UInt8]? = nil,
        kmsRootPublicKey: String? = nil,
        expectedAppID: String? = nil,
        requireTLSBinding: Bool = false,
        observedTLSFingerprint: [UInt8]? = nil,
        expectedMeasurements: ExpectedMeasurements? = nil,
        requireGPUEvidence: Bool = false,
        now: Date = Date(),
        collateral: QuoteCollateral? = nil,
        acceptedTCBStatuses: Set<TCBStatus> = [],
        nras: NRASAttestation? = nil
    ) {
        self.expectedModel = expectedModel
        self.composeFile = composeFile
        self.kmsRootPublicKey = kmsRootPublicKey
        self.expectedAppID = expectedAppID
        self.requireTLSBinding = requireTLSBinding
        self.observedTLSFingerprint = observedTLSFingerprint
        self.expectedMeasurements = expectedMeasurements
        self.requireGPUEvidence = requireGPUEvidence
        self.now = now
        self.collateral = collateral
        self.acceptedTCBStatuses = acceptedTCBStatuses
        self.nras = nras
    }
}
