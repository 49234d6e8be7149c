#if os(Linux)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The NVML entry points signing-proxy uses, resolved from `libnvidia-ml.so.1` at run time.
///
/// No link-time dependency: a host without the NVIDIA driver still starts, and evidence collection reports
/// the library as missing. The `_v2` names are the real symbols behind nvml.h's `nvmlInit`,
/// `nvmlDeviceGetCount` and `nvmlDeviceGetHandleByIndex` macros. Every function returns `nvmlReturn_t`
/// (a C enum, 32 bits); device handles are opaque pointers. Use only from the NVML worker thread.
struct NVMLLibrary {
    // nvmlReturn_t nvmlInit_v2(void) / nvmlShutdown(void)
    typealias VoidFunction = @convention(c) () -> Int32
    // nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *deviceCount)
    typealias GetCountFunction = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    // nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
    typealias GetHandleFunction = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    // nvmlReturn_t nvmlSystemGetConfComputeState(nvmlConfComputeSystemState_t *state)
    typealias GetStateFunction = @convention(c) (UnsafeMutableRawPointer) -> Int32
    // nvmlReturn_t nvmlDeviceGetConfComputeGpuAttestationReport(nvmlDevice_t, nvmlConfComputeGpuAttestationReport_t *)
    // nvmlReturn_t nvmlDeviceGetConfComputeGpuCertificate(nvmlDevice_t, nvmlConfComputeGpuCertificate_t *)
    typealias DeviceStructFunction = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer) -> Int32
    // const char *nvmlErrorString(nvmlReturn_t result)
    typealias ErrorStringFunction = @convention(c) (Int32) -> UnsafePointer<CChar>?

    /// Why the library could not be used at all.
    enum LoadFailure: Error, Equatable {
        case libraryMissing(String)
        case symbolMissing(String)
    }

    /// NVML return codes that decide an outcome (nvml.h `nvmlReturn_enum`).
    enum Return {
        static let success: Int32 = 0
        static let notSupported: Int32 = 3
        static let driverNotLoaded: Int32 = 9
        static let libraryNotFound: Int32 = 12
    }

    let initialize: VoidFunction
    let shutdown: VoidFunction
    let deviceGetCount: GetCountFunction
    let deviceGetHandleByIndex: GetHandleFunction
    let systemGetConfComputeState: GetStateFunction
    let deviceGetConfComputeGpuAttestationReport: DeviceStructFunction
    let deviceGetConfComputeGpuCertificate: DeviceStructFunction
    let errorString: ErrorStringFunction?

    /// Opens `name` (a soname searched on the loader path, or a path) and resolves the symbols.
    ///
    /// The handle is never closed: NVML keeps driver state and threads for the life of the process.
    static func load(_ name: String) throws(LoadFailure) -> NVMLLibrary {
        guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
            throw .libraryMissing(lastError() ?? "dlopen failed")
        }
        func symbol<F>(_ symbol: String, as type: F.Type) throws(LoadFailure) -> F {
            guard let address = dlsym(handle, symbol) else { throw .symbolMissing(symbol) }
            return unsafeBitCast(address, to: type)
        }
        return NVMLLibrary(
            initialize: try symbol("nvmlInit_v2", as: VoidFunction.self),
            shutdown: try symbol("nvmlShutdown", as: VoidFunction.self),
            deviceGetCount: try symbol("nvmlDeviceGetCount_v2", as: GetCountFunction.self),
            deviceGetHandleByIndex: try symbol("nvmlDeviceGetHandleByIndex_v2", as: GetHandleFunction.self),
            systemGetConfComputeState: try symbol("nvmlSystemGetConfComputeState", as: GetStateFunction.self),
            deviceGetConfComputeGpuAttestationReport: try symbol(
                "nvmlDeviceGetConfComputeGpuAttestationReport",
                as: DeviceStructFunction.self
            ),
            deviceGetConfComputeGpuCertificate: try symbol(
                "nvmlDeviceGetConfComputeGpuCertificate",
                as: DeviceStructFunction.self
            ),
            errorString: try? symbol("nvmlErrorString", as: ErrorStringFunction.self)
        )
    }

    /// NVML's text for a return code, or the bare number.
    func describe(_ code: Int32) -> String {
        if let text = errorString?(code) { return "\(String(cString: text)) (\(code))" }
        return "NVML error \(code)"
    }

    private static func lastError() -> String? {
        guard let message = dlerror() else { return nil }
        return String(cString: message)
    }
}
#endif
