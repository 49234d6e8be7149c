/// Expected values of the image-dependent TD measurements, as lowercase or uppercase hex (48 bytes each).
///
/// They depend on the dstack OS image and the VM's CPU count and memory; compute them with dstack's
/// `dstack-mr` from the published image. A `nil` field is not compared.
public struct ExpectedMeasurements: Sendable, Hashable {
    /// MRTD: the virtual firmware.
    public var mrTD: String?
    /// RTMR0: the VM hardware configuration.
    public var rtmr0: String?
    /// RTMR1: the kernel.
    public var rtmr1: String?
    /// RTMR2: the kernel command line and initrd.
    public var rtmr2: String?

    /// Creates expected measurements.
    public init(mrTD: String? = nil, rtmr0: String? = nil, rtmr1: String? = nil, rtmr2: String? = nil) {
        self.mrTD = mrTD
        self.rtmr0 = rtmr0
        self.rtmr1 = rtmr1
        self.rtmr2 = rtmr2
    }
}
