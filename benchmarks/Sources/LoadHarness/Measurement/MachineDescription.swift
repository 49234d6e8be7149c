import Foundation
import HarnessSupport

/// What the run ran on, for the JSON and the table header.
struct MachineDescription: Codable, Sendable {
    var cpuModel: String
    var logicalCPUs: Int
    var cpuFlagsOfNote: [String]
    var memoryBytes: Int
    var kernel: String
    var loadAverageAtStart: String
    var loadAverageAtEnd: String
    var openFileLimit: Int
    var nginxVersion: String
    var opensslVersion: String
    var startedAt: String

    static func current(nginx: String?) -> MachineDescription {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }.map { String($0) } ?? ""
        let noted = ["sha_ni", "avx2", "avx512f", "bmi2", "adx"].filter { flags.contains(" \($0)") }
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memKB = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }
            .flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } } ?? 0
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return MachineDescription(
            cpuModel: model,
            logicalCPUs: ProcessInfo.processInfo.activeProcessorCount,
            cpuFlagsOfNote: noted,
            memoryBytes: memKB * 1024,
            kernel: "Linux \(release)",
            loadAverageAtStart: loadAverage(),
            loadAverageAtEnd: "",
            openFileLimit: Int(limit.rlim_cur),
            nginxVersion: nginx.map { Spawner.output($0, ["-v"]) } ?? "not run",
            opensslVersion: Spawner.output("/usr/bin/env", ["openssl", "version"]),
            startedAt: ISO8601DateFormatter().string(from: Date())
        )
    }

    /// The 1, 5 and 15 minute load averages and runnable/total tasks (/proc/loadavg).
    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
