import Foundation
import Testing

/// Runs the `signing-proxy` executable built next to the test bundle, as a user would.
enum SigningProxyBinary {
    /// What one run printed and how it exited.
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String

        /// The `--json` output's checks by id.
        var checks: [String: (status: String, detail: String)] {
            guard let object = try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any],
                let checks = object["checks"] as? [[String: Any]]
            else { return [:] }
            var result: [String: (status: String, detail: String)] = [:]
            for check in checks {
                if let id = check["id"] as? String { result[id] = (check["status"] as? String ?? "", check["detail"] as? String ?? "") }
            }
            return result
        }
    }

    /// `.build/<triple>/debug/signing-proxy` beside the running test bundle.
    static var url: URL {
        get throws {
            let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            let candidates = [
                directory.appendingPathComponent("signing-proxy"),
                Fixtures.packageRoot.appendingPathComponent(".build/debug/signing-proxy"),
            ]
            let binary = try #require(
                candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                "build the signing-proxy product first (swift build --build-tests builds it)")
            // `swift test` alone does not relink the executable: refuse to test a stale one.
            let built = try modified(binary)
            let sources = ["Sources/SigningProxyCommand/Verify", "Sources/SigningProxyVerifier"].map {
                Fixtures.packageRoot.appendingPathComponent($0)
            }
            for directory in sources {
                let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])
                while let file = files?.nextObject() as? URL {
                    guard file.pathExtension == "swift" else { continue }
                    try #require(try modified(file) <= built, "\(file.lastPathComponent) is newer than \(binary.path): run swift build first")
                }
            }
            return binary
        }
    }

    private static func modified(_ url: URL) throws -> Date {
        try url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate ?? .distantPast
    }

    /// Runs `signing-proxy arguments…`, killing it after `timeout` seconds.
    static func run(_ arguments: [String], timeout: TimeInterval = 60) async throws -> Outcome {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("verify-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let process = Process()
        process.executableURL = try url
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [process] in
                if process.isRunning { process.terminate() }
            }
        }
        return Outcome(
            status: status, stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }
}
