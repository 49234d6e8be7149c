#if os(Linux)
/// Swift mirror of nvml.h `nvmlConfComputeSystemState_t` (12 bytes, alignment 4).
///
/// ```c
/// typedef struct nvmlConfComputeSystemState_st {
///     unsigned int environment;   // NVML_CC_SYSTEM_ENVIRONMENT_UNAVAILABLE 0, _SIM 1, _PROD 2
///     unsigned int ccFeature;     // NVML_CC_SYSTEM_FEATURE_DISABLED 0, _ENABLED 1
///     unsigned int devToolsMode;  // NVML_CC_SYSTEM_DEVTOOLS_MODE_OFF 0, _ON 1
/// } nvmlConfComputeSystemState_t;
/// ```
struct NVMLConfComputeSystemState: BitwiseCopyable {
    var environment: UInt32
    var ccFeature: UInt32
    var devToolsMode: UInt32
}
#endif
