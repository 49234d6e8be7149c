import Foundation
import Logging
import SigningCrypto
import Synchronization
import Testing

@testable import TEE

@Suite("GPU evidence")
struct GPUEvidenceTests {
    static let nonce = (0..<32).map { UInt8($0) }
    static let logger = Logger(label: "test.gpu", factory: { _ in SwiftLogNoOpLogHandler() })

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    // MARK: - Struct layouts (nvml.h)

    @Test func structLayoutsMatchNVMLHeader() {
        typealias Report = NVMLConfComputeGpuAttestationReport
        #expect(MemoryLayout<Report>.size == 12332)
        #expect(MemoryLayout<Report>.alignment == 4)
        #expect(MemoryLayout<Report>.offset(of: \.isCecAttestationReportPresent) == 0)
        #expect(MemoryLayout<Report>.offset(of: \.attestationReportSize) == 4)
        #expect(MemoryLayout<Report>.offset(of: \.cecAttestationReportSize) == 8)
        #expect(MemoryLayout<Report>.offset(of: \.nonce) == 12)
        #expect(MemoryLayout<Report>.offset(of: \.attestationReport) == 44)
        #expect(MemoryLayout<Report>.offset(of: \.cecAttestationReport) == 8236)

        typealias Certificate = NVMLConfComputeGpuCertificate
        #expect(MemoryLayout<Certificate>.size == 9224)
        #expect(MemoryLayout<Certificate>.offset(of: \.attestationCertChainSize) == 4)
        #expect(MemoryLayout<Certificate>.offset(of: \.certChain) == 8)
        #expect(MemoryLayout<Certificate>.offset(of: \.attestationCertChain) == 4104)

        #expect(MemoryLayout<NVMLConfComputeSystemState>.size == 12)
        #expect(MemoryLayout<NVMLConfComputeSystemState>.offset(of: \.ccFeature) == 4)
    }

    @Test(.enabled(if: FakeNVMLLibrary.compilerAvailable))
    func structLayoutsMatchTheCCompiler() throws {
        typealias Report = NVMLConfComputeGpuAttestationReport
        typealias Certificate = NVMLConfComputeGpuCertificate
        let swift: [Int?] = [
            MemoryLayout<Report>.size,
            MemoryLayout<Report>.offset(of: \.nonce),
            MemoryLayout<Report>.offset(of: \.attestationReport),
            MemoryLayout<Report>.offset(of: \.cecAttestationReport),
            MemoryLayout<Certificate>.size,
            MemoryLayout<Certificate>.offset(of: \.attestationCertChain),
            MemoryLayout<NVMLConfComputeSystemState>.size,
            MemoryLayout<Report>.offset(of: \.attestationReportSize),
        ]
        #expect(try FakeNVMLLibrary.cLayout() == swift.map { $0 ?? -1 })
    }

    // MARK: - Without NVML

    @Test func missingLibraryIsReportedAsUnavailable() async throws {
        let provider = NVMLEvidenceProvider(library: "libnvidia-ml-absent-for-tests.so.1", logger: Self.logger)
        let evidence = try await provider.evidence(nonce: Self.nonce)
        guard case .unavailable(let reason) = evidence.status else {
            Issue.record("expected unavailable, got \(evidence.status)")
            return
        }
        #expect(reason.hasPrefix("libnvidia-ml-absent-for-tests.so.1 not found"))
        let payload = try Self.object(evidence.payload)
        #expect(payload["nonce"] as? String == Hex.encode(Self.nonce))
        #expect((payload["evidence_list"] as? [Any])?.isEmpty == true)
        #expect(payload["arch"] as? String == "HOPPER")
        #expect(payload["canned"] == nil)
    }

    /// The production library name on this machine: only meaningful where no NVIDIA driver is installed.
    @Test(.enabled(if: dlopen(NVMLEvidenceProvider.defaultLibrary, RTLD_NOW | RTLD_LOCAL) == nil))
    func defaultLibraryAbsentOnThisHost() async throws {
        let evidence = try await NVMLEvidenceProvider(logger: Self.logger).evidence(nonce: Self.nonce)
        #expect(evidence.status == .unavailable(reason: evidence.reason ?? ""))
        #expect(evidence.reason?.hasPrefix("libnvidia-ml.so.1 not found") == true)
    }

    // MARK: - Against a fake libnvidia-ml (dlopen, dlsym, C layouts)

    @Suite("fake NVML library", .serialized, .enabled(if: FakeNVMLLibrary.compilerAvailable))
    struct FakeLibrary {
        func provider() throws -> NVMLEvidenceProvider {
            NVMLEvidenceProvider(library: try FakeNVMLLibrary.path.get(), logger: GPUEvidenceTests.logger)
        }

        @Test func collectsEveryGPUWithTheNonce() async throws {
            try FakeNVMLLibrary.setScenario(.twoGPUs)
            let evidence = try await provider().evidence(nonce: GPUEvidenceTests.nonce)
            #expect(evidence.status == .collected(gpuCount: 2))

            let payload = try GPUEvidenceTests.object(evidence.payload)
            #expect(payload["nonce"] as? String == Hex.encode(GPUEvidenceTests.nonce))
            let items = try #require(payload["evidence_list"] as? [[String: String]])
            #expect(items.count == 2)
            let expectedPEM = try FakeNVMLLibrary.pemChain().replacingOccurrences(of: "\r\n", with: "\n")
            for (index, item) in items.enumerated() {
                let report = try #require(Data(base64Encoded: item["evidence"] ?? "-"))
                #expect(report.count == 200)
                #expect(Array(report[4..<36]) == GPUEvidenceTests.nonce)
                #expect(report[36] == UInt8(index))
                #expect(!report.contains(0xDD))
                let certificate = try #require(Data(base64Encoded: item["certificate"] ?? "-"))
                #expect(String(decoding: certificate, as: UTF8.self) == expectedPEM)
            }
        }

        @Test func noGPUIsUnavailable() async throws {
            try FakeNVMLLibrary.setScenario(.noGPU)
            let evidence = try await provider().evidence(nonce: GPUEvidenceTests.nonce)
            #expect(evidence.status == .unavailable(reason: "no NVIDIA GPU found"))
        }

        @Test func driverNotLoadedIsUnavailable() async throws {
            try FakeNVMLLibrary.setScenario(.driverNotLoaded)
            let evidence = try await provider().evidence(nonce: GPUEvidenceTests.nonce)
            #expect(evidence.reason?.hasPrefix("NVIDIA driver not loaded") == true)
        }

        @Test func confidentialComputingOffIsUnavailable() async throws {
            try FakeNVMLLibrary.setScenario(.confidentialComputingOff)
            let evidence = try await provider().evidence(nonce: GPUEvidenceTests.nonce)
            #expect(evidence.reason?.hasPrefix("GPU confidential computing is off") == true)
        }

        @Test func nvmlErrorThrows() async throws {
            try FakeNVMLLibrary.setScenario(.reportFails)
            do {
                _ = try await provider().evidence(nonce: GPUEvidenceTests.nonce)
                Issue.record("expected an error")
            } catch let error as GPUEvidenceError {
                #expect(error.description == "nvmlDeviceGetConfComputeGpuAttestationReport(0) failed: Fake Error (999)")
            }
        }
    }

    // MARK: - Canned evidence

    @Test func cannedEvidenceIsMarkedAndCarriesTheNonce() async throws {
        let evidence = try await CannedEvidenceProvider().evidence(nonce: Self.nonce)
        #expect(evidence.status == .canned)
        let payload = try Self.object(evidence.payload)
        #expect(payload["canned"] as? Bool == true)
        #expect(payload["nonce"] as? String == Hex.encode(Self.nonce))
        let items = try #require(payload["evidence_list"] as? [[String: String]])
        #expect(items.count == 1)
        let report = try #require(Data(base64Encoded: items.first?["evidence"] ?? "-"))
        #expect(Array(report[0..<4]) == [0x11, 0xE0, 0x01, 0xFF])
        #expect(Array(report[4..<36]) == Self.nonce)
        #expect(report.suffix(96).allSatisfy { $0 == 0 })
    }

    // MARK: - Payload encoding

    @Test func certificateChainIsReEmittedAsCanonicalPEM() throws {
        let pem = try AttestationFixtures.appKeysCACert().trimmingCharacters(in: .whitespacesAndNewlines)
        let base64 = pem.split(separator: "\n").dropFirst().dropLast().joined()
        // One long body line, CRLF ends, NUL padding: what a sloppy buffer could hold.
        let messy = "-----BEGIN CERTIFICATE-----\r\n\(base64)\r\n-----END CERTIFICATE-----\r\n\0\0\0"
        #expect(try NVIDIAPayload.canonicalPEM(Array(messy.utf8)) == pem + "\n")
        let field = try NVIDIAPayload.certificateField(pemChain: Array((pem + "\n" + pem).utf8))
        #expect(Data(base64Encoded: field).map { String(decoding: $0, as: UTF8.self) } == pem + "\n" + pem + "\n")
    }

    @Test(arguments: ["", "not pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----",
        "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n", "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n",
    ])
    func certificateChainWithoutCertificateIsMalformed(text: String) {
        #expect(throws: GPUEvidenceError.self) { try NVIDIAPayload.certificateField(pemChain: Array(text.utf8)) }
    }

    @Test func evidenceIsBase64OfTheRawReport() {
        #expect(NVIDIAPayload.evidenceField(report: [0x11, 0xE0, 0xFF]) == "EeD/")
    }

    // MARK: - The NVML worker

    @Test func workerTimesOutWithoutWaitingForTheItem() async throws {
        let executor = SerialBlockingExecutor()
        let released = SharedFlag()
        await #expect(throws: SerialBlockingExecutor.Failure.timedOut) {
            try await executor.run(limit: .milliseconds(20)) {
                // Blocks like a hung driver call until the test lets it go (bounded to 5 s).
                for _ in 0..<500 where !released.value { usleep(10_000) }
                return 1
            }
        }
        released.set()
        #expect(try await executor.run(limit: .seconds(10)) { 2 } == 2)
    }

    @Test func workerRunsOneItemAtATime() async throws {
        let executor = SerialBlockingExecutor()
        let probe = OverlapProbe()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await executor.run(limit: .seconds(30)) {
                        probe.enter()
                        usleep(2_000)
                        probe.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(probe.peak == 1)
    }
}

/// A flag shared with blocking work.
private final class SharedFlag: Sendable {
    private let state = Mutex(false)
    var value: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

/// Counts how many items run at once.
private final class OverlapProbe: Sendable {
    private let state = Mutex((now: 0, peak: 0))
    var peak: Int { state.withLock { $0.peak } }
    func enter() { state.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) } }
    func leave() { state.withLock { $0.now -= 1 } }
}

extension GPUEvidence {
    /// The unavailability reason, nil for other statuses.
    fileprivate var reason: String? {
        if case .unavailable(let reason) = status { return reason }
        return nil
    }
}
