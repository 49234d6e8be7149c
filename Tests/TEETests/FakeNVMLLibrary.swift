import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A stand-in `libnvidia-ml.so` compiled from C at test time, so the Swift mirrors of the NVML structs are
/// exercised against a C compiler's layout and the dlopen/dlsym path runs for real on a machine without a GPU.
///
/// The C side declares the structs exactly as nvml.h does and reports `sizeof`/`offsetof` through
/// `fakeNvmlLayout`. `fakeNvmlSetScenario` picks the behaviour; callers must not run scenarios concurrently.
enum FakeNVMLLibrary {
    enum Scenario: Int32 {
        case twoGPUs = 0
        case noGPU = 1
        case driverNotLoaded = 2
        case confidentialComputingOff = 3
        case reportFails = 4
    }

    static let compilerAvailable: Bool = findCompiler() != nil

    /// Path of the compiled library, built once per test process.
    static let path: Result<String, any Error> = Result { try build() }

    static func setScenario(_ scenario: Scenario) throws {
        typealias Setter = @convention(c) (Int32) -> Void
        let handle = try #require(dlopen(try path.get(), RTLD_NOW | RTLD_LOCAL))
        let symbol = try #require(dlsym(handle, "fakeNvmlSetScenario"))
        unsafeBitCast(symbol, to: Setter.self)(scenario.rawValue)
    }

    /// `[sizeof(report), offsetof(nonce), offsetof(attestationReport), offsetof(cecAttestationReport),
    ///  sizeof(certificate), offsetof(attestationCertChain), sizeof(state), offsetof(attestationReportSize)]`.
    static func cLayout() throws -> [Int] {
        typealias Layout = @convention(c) (UnsafeMutablePointer<UInt64>) -> Void
        let handle = try #require(dlopen(try path.get(), RTLD_NOW | RTLD_LOCAL))
        let symbol = try #require(dlsym(handle, "fakeNvmlLayout"))
        var values = [UInt64](repeating: 0, count: 8)
        values.withUnsafeMutableBufferPointer { unsafeBitCast(symbol, to: Layout.self)($0.baseAddress!) }
        return values.map { Int($0) }
    }

    /// The PEM chain the fake returns: the appkeys CA certificate twice, with CRLF line ends.
    static func pemChain() throws -> String {
        let certificate = try AttestationFixtures.appKeysCACert().trimmingCharacters(in: .whitespacesAndNewlines)
        return (certificate + "\n" + certificate + "\n").replacingOccurrences(of: "\n", with: "\r\n")
    }

    private static func findCompiler() -> String? {
        for candidate in ["/usr/bin/cc", "/usr/bin/clang", "/usr/bin/gcc"] where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/clang"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    private static func build() throws -> String {
        let compiler = try #require(findCompiler())
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fake-nvml-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let source = directory.appendingPathComponent("fake_nvml.c")
        let library = directory.appendingPathComponent("libfake-nvml.so")
        let pemLiteral = try pemChain().replacingOccurrences(of: "\r\n", with: "\\r\\n")
        try cSource(pemLiteral: pemLiteral).write(to: source, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        process.arguments = ["-shared", "-fPIC", "-O0", "-o", library.path, source.path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "compiling the fake NVML library failed")
        return library.path
    }

    private static func cSource(pemLiteral: String) -> String {
        """
        #include <stddef.h>
        #include <stdint.h>
        #include <string.h>

        typedef struct nvmlDevice_st *nvmlDevice_t;

        /* As declared in nvml.h (NVML 12.x). */
        typedef struct nvmlConfComputeSystemState_st {
            unsigned int environment;
            unsigned int ccFeature;
            unsigned int devToolsMode;
        } nvmlConfComputeSystemState_t;

        typedef struct nvmlConfComputeGpuCertificate_st {
            unsigned int certChainSize;
            unsigned int attestationCertChainSize;
            unsigned char certChain[0x1000];
            unsigned char attestationCertChain[0x1400];
        } nvmlConfComputeGpuCertificate_t;

        typedef struct nvmlConfComputeGpuAttestationReport_st {
            unsigned int isCecAttestationReportPresent;
            unsigned int attestationReportSize;
            unsigned int cecAttestationReportSize;
            unsigned char nonce[0x20];
            unsigned char attestationReport[0x2000];
            unsigned char cecAttestationReport[0x1000];
        } nvmlConfComputeGpuAttestationReport_t;

        static int scenario = 0;
        static int initCount = 0;
        static const char pem[] = "\(pemLiteral)";

        void fakeNvmlSetScenario(int value) { scenario = value; }
        int fakeNvmlInitCount(void) { return initCount; }

        void fakeNvmlLayout(uint64_t *out) {
            out[0] = sizeof(nvmlConfComputeGpuAttestationReport_t);
            out[1] = offsetof(nvmlConfComputeGpuAttestationReport_t, nonce);
            out[2] = offsetof(nvmlConfComputeGpuAttestationReport_t, attestationReport);
            out[3] = offsetof(nvmlConfComputeGpuAttestationReport_t, cecAttestationReport);
            out[4] = sizeof(nvmlConfComputeGpuCertificate_t);
            out[5] = offsetof(nvmlConfComputeGpuCertificate_t, attestationCertChain);
            out[6] = sizeof(nvmlConfComputeSystemState_t);
            out[7] = offsetof(nvmlConfComputeGpuAttestationReport_t, attestationReportSize);
        }

        int nvmlInit_v2(void) {
            if (scenario == 2) return 9; /* NVML_ERROR_DRIVER_NOT_LOADED */
            initCount++;
            return 0;
        }
        int nvmlShutdown(void) { initCount--; return 0; }
        const char *nvmlErrorString(int result) { return result == 3 ? "Not Supported" : "Fake Error"; }

        int nvmlDeviceGetCount_v2(unsigned int *count) {
            *count = scenario == 1 ? 0 : 2;
            return 0;
        }
        int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
            *device = (nvmlDevice_t)(uintptr_t)(0x1000 + index);
            return 0;
        }
        int nvmlSystemGetConfComputeState(nvmlConfComputeSystemState_t *state) {
            state->environment = 2;
            state->ccFeature = scenario == 3 ? 0 : 1;
            state->devToolsMode = 0;
            return 0;
        }
        int nvmlDeviceGetConfComputeGpuCertificate(nvmlDevice_t device, nvmlConfComputeGpuCertificate_t *cert) {
            (void)device;
            memset(cert->certChain, 0xCC, sizeof(cert->certChain));
            cert->certChainSize = 16;
            memcpy(cert->attestationCertChain, pem, sizeof(pem));
            /* Include the terminating NUL and some padding, as drivers do. */
            cert->attestationCertChainSize = (unsigned int)sizeof(pem) + 7;
            return 0;
        }
        int nvmlDeviceGetConfComputeGpuAttestationReport(nvmlDevice_t device, nvmlConfComputeGpuAttestationReport_t *report) {
            unsigned int index = (unsigned int)((uintptr_t)device - 0x1000);
            if (scenario == 3) return 3; /* NVML_ERROR_NOT_SUPPORTED */
            if (scenario == 4) return 999; /* NVML_ERROR_UNKNOWN */
            report->isCecAttestationReportPresent = 1;
            report->cecAttestationReportSize = 64;
            memset(report->cecAttestationReport, 0xEE, 64);
            /* SPDM-like: header, the caller's nonce at 4..36, then the GPU index and a filler. */
            report->attestationReport[0] = 0x11;
            report->attestationReport[1] = 0xE0;
            report->attestationReport[2] = 0x01;
            report->attestationReport[3] = 0xFF;
            memcpy(report->attestationReport + 4, report->nonce, 32);
            report->attestationReport[36] = (unsigned char)index;
            memset(report->attestationReport + 37, 0xAB, 163);
            memset(report->attestationReport + 200, 0xDD, 100); /* beyond the size: must not be read */
            report->attestationReportSize = 200;
            return 0;
        }
        """
    }
}
