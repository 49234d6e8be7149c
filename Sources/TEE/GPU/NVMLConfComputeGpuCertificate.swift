#if os(Linux)
/// Swift mirror of nvml.h `nvmlConfComputeGpuCertificate_t`.
///
/// C declaration (nvml.h, "GPU Certificate Details"):
/// ```c
/// #define NVML_GPU_CERT_CHAIN_SIZE             0x1000
/// #define NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE 0x1400
/// typedef struct nvmlConfComputeGpuCertificate_st {
///     unsigned int  certChainSize;
///     unsigned int  attestationCertChainSize;
///     unsigned char certChain[NVML_GPU_CERT_CHAIN_SIZE];
///     unsigned char attestationCertChain[NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE];
/// } nvmlConfComputeGpuCertificate_t;                             // 9224 bytes, alignment 4
/// ```
/// `attestationCertChain` holds the PEM text of the attestation-key chain, leaf first (what nvtrust reads).
struct NVMLConfComputeGpuCertificate: BitwiseCopyable {
    static let certChainCapacity = 0x1000
    static let attestationCertChainCapacity = 0x1400

    var certChainSize: UInt32
    var attestationCertChainSize: UInt32
    var certChain: InlineArray<0x1000, UInt8>
    var attestationCertChain: InlineArray<0x1400, UInt8>
}
#endif
