import Foundation

/// Reads a process's CPU time and resident memory from /proc (Linux).
package enum ProcessProbe {
    /// User + system CPU seconds of `pid` (fields 14 and 15 of /proc/<pid>/stat), or nil if gone.
    package static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may itself contain spaces: state is field 3.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident set size of `pid` in bytes (VmRSS of /proc/<pid>/status), or nil if gone.
    package static func residentBytes(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let number = line.dropFirst("VmRSS:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
            return number.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }

    /// `pid` and its direct children (nginx's master and workers).
    package static func family(_ pid: Int32) -> [Int32] {
        var result = [pid]
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return result }
        for entry in entries {
            guard let child = Int32(entry),
                let text = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = text.lastIndex(of: ")")
            else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            if fields.count > 1, Int32(fields[1]) == pid { result.append(child) }
        }
        return result
    }

    /// CPU seconds summed over `pids`.
    package static func cpuSeconds(_ pids: [Int32]) -> Double {
        pids.compactMap { cpuSeconds($0) }.reduce(0, +)
    }

    /// Resident bytes summed over `pids`.
    package static func residentBytes(_ pids: [Int32]) -> Int {
        pids.compactMap { residentBytes($0) }.reduce(0, +)
    }
}
