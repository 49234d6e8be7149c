#if os(Linux)
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
#endif
import Synchronization

/// One synchronous NVML evidence collection; runs only on the NVML worker thread.
enum NVMLCollection {
    /// What a collection produced when nothing failed.
    enum Outcome: Sendable, Equatable {
        /// One encoded item per GPU, in NVML index order.
        case evidence([NVIDIAPayload.Item])
        /// This host cannot produce GPU evidence; the text says why.
        case unavailable(String)
    }

    /// Loads `library` (cached after the first success), then collects certificate and report from every GPU.
    static func collect(library: String, nonce: [UInt8]) throws(GPUEvidenceError) -> Outcome {
        #if os(Linux)
        let nvml: NVMLLibrary
        switch loadedLibrary(library) {
        case .success(let loaded):
            nvml = loaded
        case .failure(.libraryMissing(let detail)):
            return .unavailable("\(library) not found (\(detail))")
        case .failure(.symbolMissing(let symbol)):
            return .unavailable("\(library) lacks \(symbol) (driver without confidential-computing support)")
        }
        return try collect(nvml: nvml, nonce: nonce)
        #else
        return .unavailable("NVML evidence collection needs Linux")
        #endif
    }

    #if os(Linux)
    private static let libraries = Mutex<[String: NVMLLibrary]>([:])

    private static func loadedLibrary(_ name: String) -> Result<NVMLLibrary, NVMLLibrary.LoadFailure> {
        if let cached = libraries.withLock({ $0[name] }) { return .success(cached) }
        let result = Result { () throws(NVMLLibrary.LoadFailure) in try NVMLLibrary.load(name) }
        if case .success(let loaded) = result { libraries.withLock { $0[name] = loaded } }
        return result
    }

    static func collect(nvml: NVMLLibrary, nonce: [UInt8]) throws(GPUEvidenceError) -> Outcome {
        guard nonce.count == NVMLConfComputeGpuAttestationReport.nonceSize else {
            throw .malformed("nonce must be 32 bytes")
        }
        let initialized = nvml.initialize()
        switch initialized {
        case NVMLLibrary.Return.success:
            break
        case NVMLLibrary.Return.driverNotLoaded, NVMLLibrary.Return.libraryNotFound:
            return .unavailable("NVIDIA driver not loaded (\(nvml.describe(initialized)))")
        default:
            throw .nvml("nvmlInit_v2", nvml.describe(initialized))
        }
        defer { _ = nvml.shutdown() }

        // Read for the explanation only: a PPCIE system reports ccFeature 0 yet still attests, so the
        // report call, not this flag, decides.
        var state = NVMLConfComputeSystemState(environment: 0, ccFeature: 0, devToolsMode: 0)
        let stateResult = withUnsafeMutableBytes(of: &state) { nvml.systemGetConfComputeState($0.baseAddress!) }

        var count: UInt32 = 0
        let counted = nvml.deviceGetCount(&count)
        guard counted == NVMLLibrary.Return.success else { throw .nvml("nvmlDeviceGetCount_v2", nvml.describe(counted)) }
        guard count > 0 else { return .unavailable("no NVIDIA GPU found") }

        var items: [NVIDIAPayload.Item] = []
        for index in 0..<count {
            var device: OpaquePointer?
            let found = nvml.deviceGetHandleByIndex(index, &device)
            guard found == NVMLLibrary.Return.success else {
                throw .nvml("nvmlDeviceGetHandleByIndex_v2(\(index))", nvml.describe(found))
            }
            let certificate: [UInt8]
            let report: [UInt8]
            do throws(NVMLCallFailure) {
                certificate = try attestationCertificateChain(nvml: nvml, device: device)
                report = try attestationReport(nvml: nvml, device: device, nonce: nonce)
            } catch {
                if error.code == NVMLLibrary.Return.notSupported,
                    stateResult != NVMLLibrary.Return.success || state.ccFeature == 0
                {
                    return .unavailable("GPU confidential computing is off (\(error.function): \(nvml.describe(error.code)))")
                }
                throw .nvml("\(error.function)(\(index))", nvml.describe(error.code))
            }
            items.append(
                NVIDIAPayload.Item(
                    certificate: try NVIDIAPayload.certificateField(pemChain: certificate),
                    evidence: NVIDIAPayload.evidenceField(report: report)
                )
            )
        }
        return .evidence(items)
    }

    /// A failed NVML call before it is turned into a message.
    private struct NVMLCallFailure: Error {
        var function: String
        var code: Int32
    }

    /// `attestationCertChain[0..<attestationCertChainSize]`: the PEM chain nvtrust uses.
    private static func attestationCertificateChain(nvml: NVMLLibrary, device: OpaquePointer?) throws(NVMLCallFailure) -> [UInt8] {
        let buffer = ZeroedBuffer<NVMLConfComputeGpuCertificate>()
        let result = nvml.deviceGetConfComputeGpuCertificate(device, buffer.raw)
        guard result == NVMLLibrary.Return.success else {
            throw NVMLCallFailure(function: "nvmlDeviceGetConfComputeGpuCertificate", code: result)
        }
        let size = min(Int(buffer.typed.pointee.attestationCertChainSize), NVMLConfComputeGpuCertificate.attestationCertChainCapacity)
        return buffer.bytes(at: MemoryLayout<NVMLConfComputeGpuCertificate>.offset(of: \.attestationCertChain)!, count: size)
    }

    /// `attestationReport[0..<attestationReportSize]` for `nonce` (the struct's input field).
    private static func attestationReport(nvml: NVMLLibrary, device: OpaquePointer?, nonce: [UInt8]) throws(NVMLCallFailure) -> [UInt8] {
        let buffer = ZeroedBuffer<NVMLConfComputeGpuAttestationReport>()
        let nonceOffset = MemoryLayout<NVMLConfComputeGpuAttestationReport>.offset(of: \.nonce)!
        nonce.withUnsafeBytes { (buffer.raw + nonceOffset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let result = nvml.deviceGetConfComputeGpuAttestationReport(device, buffer.raw)
        guard result == NVMLLibrary.Return.success else {
            throw NVMLCallFailure(function: "nvmlDeviceGetConfComputeGpuAttestationReport", code: result)
        }
        let size = min(Int(buffer.typed.pointee.attestationReportSize), NVMLConfComputeGpuAttestationReport.attestationReportCapacity)
        return buffer.bytes(at: MemoryLayout<NVMLConfComputeGpuAttestationReport>.offset(of: \.attestationReport)!, count: size)
    }
    #endif
}

#if os(Linux)
/// A zero-filled heap allocation of one NVML struct (12 KB structs do not belong on a thread's stack).
private final class ZeroedBuffer<Layout: BitwiseCopyable> {
    let raw: UnsafeMutableRawPointer

    init() {
        raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<Layout>.size, alignment: MemoryLayout<Layout>.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<Layout>.size)
    }

    deinit { raw.deallocate() }

    /// The buffer as the struct (all-zero bytes are a valid value of these trivial layouts).
    var typed: UnsafeMutablePointer<Layout> {
        raw.assumingMemoryBound(to: Layout.self)
    }

    func bytes(at offset: Int, count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: raw + offset, count: max(0, count)))
    }
}
#endif
