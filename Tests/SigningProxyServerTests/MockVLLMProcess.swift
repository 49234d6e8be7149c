import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A `mock-vllm` process on loopback, for tests that kill a backend as a crash would (SIGKILL: every
/// connection closes at once, nothing is drained).
final class MockVLLMProcess: @unchecked Sendable {
    let port: Int
    private let process: Process

    var baseURL: String { "http://127.0.0.1:\(port)" }

    private init(port: Int, process: Process) {
        self.port = port
        self.process = process
    }

    /// `mock-vllm` beside the test bundle (`swift build --build-tests` builds it).
    static var binary: URL {
        get throws {
            let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mock-vllm")
            let candidates = [beside, Fixtures.packageRoot.appendingPathComponent(".build/debug/mock-vllm")]
            return try #require(
                candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }, "build mock-vllm first (swift build --build-tests)")
        }
    }

    /// Starts one and waits (at most 10 s) for the line that names its port.
    /// - Parameter port: 0 picks a free one; a port to restart a killed backend where it was.
    static func start(model: String, port: Int = 0, arguments: [String] = []) throws -> MockVLLMProcess {
        let process = Process()
        process.executableURL = try binary
        process.arguments = ["--port", String(port), "--model", model] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A watchdog: a process that never prints its line is killed, which ends the read below.
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 10, execute: watchdog)
        defer { watchdog.cancel() }
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let range = text.range(of: "listening on http://"), let colon = text[range.upperBound...].lastIndex(of: ":"),
            let bound = Int(text[text.index(after: colon)...].prefix { $0.isNumber })
        else {
            _ = Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw MockProcessError(output: text)
        }
        return MockVLLMProcess(port: bound, process: process)
    }

    /// SIGKILL, then waits for it to be gone.
    func crash() {
        guard process.isRunning else { return }
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        crash()
    }

    struct MockProcessError: Error, CustomStringConvertible {
        let output: String
        var description: String { "mock-vllm did not report its port; it printed: \(output)" }
    }
}
