/// A TCB status as Intel's collateral spells it (`tcbStatus` in TCB info and QE identity levels).
///
/// Only ``upToDate`` passes by default; `VerificationOptions.acceptedTCBStatuses` may admit others
/// (they are still reported with their advisory ids). ``revoked`` never passes.
public enum TCBStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// The platform and TDX module are patched.
    case upToDate = "UpToDate"
    /// Patched, but software mitigations (e.g. against side channels) are needed.
    case swHardeningNeeded = "SWHardeningNeeded"
    /// Patched, but the platform configuration (e.g. BIOS settings) needs changes.
    case configurationNeeded = "ConfigurationNeeded"
    /// Both of the above.
    case configurationAndSWHardeningNeeded = "ConfigurationAndSWHardeningNeeded"
    /// A security update is missing.
    case outOfDate = "OutOfDate"
    /// A security update is missing and the configuration needs changes.
    case outOfDateConfigurationNeeded = "OutOfDateConfigurationNeeded"
    /// TD 1.5: the TDX module was updated while the TD ran; relaunching the TD is advised.
    case tdRelaunchAdvised = "TDRelaunchAdvised"
    /// TD 1.5: relaunch advised and the configuration needs changes.
    case tdRelaunchAdvisedConfigurationNeeded = "TDRelaunchAdvisedConfigurationNeeded"
    /// The TCB level is revoked: never trusted.
    case revoked = "Revoked"
}
