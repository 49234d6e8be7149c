import Logging
import SigningCrypto
import Synchronization

/// Collects GPU evidence through NVML's confidential-computing API, loading `libnvidia-ml.so.1` at run time.
///
/// For each GPU: `nvmlDeviceGetConfComputeGpuCertificate` (the attestation-key chain) and
/// `nvmlDeviceGetConfComputeGpuAttestationReport` with the request nonce, between `nvmlInit_v2` and
/// `nvmlShutdown`, as nvtrust does. All NVML use in the process goes through one worker thread, one
/// collection at a time, each caller waiting at most `limit` (docs/API.md, `nvidia_payload`).
///
/// A host without the library, without a GPU or with confidential computing off yields `.unavailable`
/// evidence (the report shows why); NVML errors on a host that has a GPU throw `GPUEvidenceError`.
package final class NVMLEvidenceProvider: GPUEvidenceProvider {
    /// The soname NVIDIA's driver installs (no `-dev` package needed).
    package static let defaultLibrary = "libnvidia-ml.so.1"

    /// Process-wide: NVML state is global, so every provider shares the one worker thread.
    private static let sharedExecutor = SerialBlockingExecutor()

    private let library: String
    private let limit: Duration
    private let executor: SerialBlockingExecutor
    private let logger: Logger

    /// - Parameters:
    ///   - library: soname or path of the NVML library (tests point it elsewhere).
    ///   - limit: longest a caller waits for one collection, queueing included.
    package convenience init(library: String = NVMLEvidenceProvider.defaultLibrary, limit: Duration = .seconds(60), logger: Logger) {
        self.init(library: library, limit: limit, executor: Self.sharedExecutor, logger: logger)
    }

    init(library: String, limit: Duration, executor: SerialBlockingExecutor, logger: Logger) {
        self.library = library
        self.limit = limit
        self.executor = executor
        self.logger = logger
    }

    package func evidence(nonce: [UInt8]) async throws -> GPUEvidence {
        let library = self.library
        let outcome: NVMLCollection.Outcome
        do {
            outcome = try await executor.run(limit: limit) { () throws(GPUEvidenceError) -> NVMLCollection.Outcome in
                try NVMLCollection.collect(library: library, nonce: nonce)
            }
        } catch let error as GPUEvidenceError {
            logger.warning("GPU evidence collection failed", metadata: ["gpu.error": "\(error)"])
            throw error
        } catch SerialBlockingExecutor.Failure.timedOut {
            logger.error("GPU evidence collection timed out", metadata: ["gpu.limit_s": "\(limit.components.seconds)"])
            throw GPUEvidenceError.timedOut(after: limit)
        } catch SerialBlockingExecutor.Failure.shutDown {
            throw GPUEvidenceError.executorShutDown
        }

        switch outcome {
        case .evidence(let items):
            return GPUEvidence(payload: NVIDIAPayload.json(nonce: nonce, items: items), status: .collected(gpuCount: items.count))
        case .unavailable(let reason):
            logger.debug("GPU evidence unavailable", metadata: ["gpu.reason": "\(reason)"])
            return GPUEvidence(payload: NVIDIAPayload.json(nonce: nonce, items: []), status: .unavailable(reason: reason))
        }
    }
}
