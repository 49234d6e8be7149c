#if os(Linux)
/// Swift mirror of nvml.h `nvmlConfComputeGpuAttestationReport_t` (NVML 12.x, r535+ drivers).
///
/// C declaration (nvml.h, "GPU Attestation Report"):
/// ```c
/// #define NVML_CC_GPU_CEC_NONCE_SIZE              0x20
/// #define NVML_CC_GPU_ATTESTATION_REPORT_SIZE     0x2000
/// #define NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE 0x1000
/// typedef struct nvmlConfComputeGpuAttestationReport_st {
///     unsigned int  isCecAttestationReportPresent;
///     unsigned int  attestationReportSize;
///     unsigned int  cecAttestationReportSize;
///     unsigned char nonce[NVML_CC_GPU_CEC_NONCE_SIZE];          // input
///     unsigned char attestationReport[NVML_CC_GPU_ATTESTATION_REPORT_SIZE];
///     unsigned char cecAttestationReport[NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE];
/// } nvmlConfComputeGpuAttestationReport_t;                       // 12332 bytes, alignment 4
/// ```
/// Swift lays out these trivial fields in declaration order with C alignment; `GPUEvidenceTests` pins
/// the size and every offset, and checks them against a C compiler when one is available.
struct NVMLConfComputeGpuAttestationReport: BitwiseCopyable {
    static let nonceSize = 0x20
    static let attestationReportCapacity = 0x2000
    static let cecAttestationReportCapacity = 0x1000

    var isCecAttestationReportPresent: UInt32
    var attestationReportSize: UInt32
    var cecAttestationReportSize: UInt32
    var nonce: InlineArray<0x20, UInt8>
    var attestationReport: InlineArray<0x2000, UInt8>
    var cecAttestationReport: InlineArray<0x1000, UInt8>
}
#endif
