import Foundation
import HarnessSupport

/// The processes one chaos run starts (mock-vllm, uvicorn, signing-proxy), all on 127.0.0.1, and stops.
///
/// Started and stopped from the command's main task only.
final class Fleet: @unchecked Sendable {
    static let token = "chaos-token"
    static let model = "tiny"

    let directory: String
    let binDir: String
    let mockBinDir: String
    /// Extra environment for every proxy (timeouts, limits), `NAME=VALUE` from `--proxy-env`.
    let proxyEnvironment: [String: String]
    private var processes: [ChildProcess] = []
    private var counter = 0

    init(binDir: String, mockBinDir: String?, proxyEnvironment: [String: String]) throws {
        self.binDir = binDir
        self.mockBinDir = mockBinDir ?? binDir
        self.proxyEnvironment = proxyEnvironment
        for path in ["\(binDir)/signing-proxy", "\(self.mockBinDir)/mock-vllm"] where !FileManager.default.isExecutableFile(atPath: path) {
            throw HarnessError.missing("\(path) (swift build -c release --product \(path.split(separator: "/").last ?? ""))")
        }
        self.directory = try TemporaryDirectory.make()
    }

    /// An upstream: its port, its process, and the file it logs each request to.
    struct Upstream: Sendable {
        let name: String
        let process: ChildProcess
        let requestLog: String
        var port: Int { process.port }

        /// The upstream's request log, one entry per request received so far.
        func requests() -> [UpstreamRequest] {
            UpstreamRequest.read(requestLog)
        }
    }

    /// A mock-vllm with `arguments` added to the loopback, port-0, request-log ones.
    func mock(_ name: String, _ arguments: [String] = []) async throws -> Upstream {
        let log = nextPath(name, "requests.jsonl")
        let process = try ChildProcess(
            name: "mock-vllm (\(name))", executable: "\(mockBinDir)/mock-vllm",
            arguments: ["--port", "0", "--host", "127.0.0.1", "--model", Self.model, "--request-log", log] + arguments,
            logPath: nextPath(name, "log"))
        processes.append(process)
        try await process.waitForPort(pattern: #"listening on http://127\.0\.0\.1:(\d+)"#, timeout: .seconds(30))
        return Upstream(name: name, process: process, requestLog: log)
    }

    /// uvicorn serving `benchmarks/uvicorn/vllm_asgi.py` with HTTP parser `http` (`h11` or `httptools`).
    func uvicorn(python: String, appDirectory: String, http: String) async throws -> Upstream {
        let name = "uvicorn-\(http)"
        let log = nextPath(name, "requests.jsonl")
        let port = try PortProbe.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["VLLM_ASGI_REQUEST_LOG"] = log
        environment["VLLM_ASGI_MODEL"] = Self.model
        let process = try ChildProcess(
            name: name, executable: python,
            arguments: [
                "-m", "uvicorn", "--app-dir", appDirectory, "vllm_asgi:app", "--host", "127.0.0.1", "--port", "\(port)",
                "--http", http, "--no-access-log", "--log-level", "warning",
            ],
            environment: environment, logPath: nextPath(name, "log"))
        processes.append(process)
        try await process.waitForListening(port: port, timeout: .seconds(30))
        return Upstream(name: name, process: process, requestLog: log)
    }

    /// `signing-proxy serve --dev` in front of `upstream`; secrets and settings through the environment.
    /// `fileLimit` lowers the proxy's open-file limit (through `sh -c 'ulimit -n'`).
    func proxy(
        _ name: String, upstreamPort: Int, environment extra: [String: String] = [:], fileLimit: Int? = nil
    ) async throws -> ChildProcess {
        var environment = ProcessInfo.processInfo.environment
        environment["TOKEN"] = Self.token
        environment["MODEL_NAME"] = Self.model
        environment["DEV"] = "1"
        environment["VLLM_BASE_URL"] = "http://127.0.0.1:\(upstreamPort)"
        environment["LOG_LEVEL"] = "info"  // the listening line (with the port) is at info
        environment["LOG_FORMAT"] = "text"
        environment.merge(proxyEnvironment) { _, new in new }
        environment.merge(extra) { _, new in new }
        let binary = "\(binDir)/signing-proxy"
        let arguments = ["serve", "--host", "127.0.0.1", "--port", "0"]
        let process: ChildProcess
        if let fileLimit {
            process = try ChildProcess(
                name: "signing-proxy (\(name))", executable: "/bin/sh",
                arguments: ["-c", "ulimit -n \(fileLimit) && exec \"$0\" \"$@\"", binary] + arguments,
                environment: environment, logPath: nextPath(name, "log"))
        } else {
            process = try ChildProcess(
                name: "signing-proxy (\(name))", executable: binary, arguments: arguments,
                environment: environment, logPath: nextPath(name, "log"))
        }
        processes.append(process)
        try await process.waitForPort(pattern: #"port=(\d+)"#, timeout: .seconds(30))
        return process
    }

    /// The ecdsa signing address a proxy logged at start-up (`signing.address=0x…`).
    static func signingAddress(of proxy: ChildProcess) -> String? {
        guard let text = try? String(contentsOfFile: proxy.logPath, encoding: .utf8),
            let match = text.firstMatch(of: /signing\.address=(0x[0-9a-fA-F]{40})/)
        else { return nil }
        return String(match.output.1)
    }

    /// Stops `process` (SIGTERM, then SIGKILL) and forgets it.
    func stop(_ process: ChildProcess) async {
        await process.stop()
        processes.removeAll { $0 === process }
    }

    func stopAll() async {
        for process in processes.reversed() { await process.stop() }
        processes = []
    }

    /// Removes the run's folder (logs included); kept when `keep`.
    func cleanUp(keep: Bool) {
        if keep {
            chaosLog("logs kept in \(directory)")
        } else {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    private func nextPath(_ name: String, _ suffix: String) -> String {
        counter += 1
        return "\(directory)/\(counter)-\(name).\(suffix)"
    }
}

/// One line of an upstream's request log (mock-vllm `--request-log`, or the uvicorn app's).
struct UpstreamRequest: Codable, Sendable {
    var method: String
    var path: String
    var contentLength: String?
    var transferEncoding: String?
    var bodyBytes: Int?
    var bodyFNV1a64: String?
    var id: String?

    enum CodingKeys: String, CodingKey {
        case method, path, id
        case contentLength = "content_length"
        case transferEncoding = "transfer_encoding"
        case bodyBytes = "body_bytes"
        case bodyFNV1a64 = "body_fnv1a64"
    }

    static func read(_ path: String) -> [UpstreamRequest] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(UpstreamRequest.self, from: Data($0.utf8)) }
    }

    /// FNV-1a 64 as the logs write it (16 lowercase hex digits).
    static func fnv1a64(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Progress on stderr, so stdout carries only the summary.
func chaosLog(_ line: String) {
    FileHandle.standardError.write(Data("[chaos] \(line)\n".utf8))
}
