import Foundation

/// A server the harness started: its pid, its log file and the port it listens on.
final class ChildProcess: @unchecked Sendable {
    // Used from the harness's main task only (start, wait, stop).
    let name: String
    let pid: pid_t
    let logPath: String
    private(set) var port = 0

    var isRunning: Bool { Spawner.isRunning(pid) }

    /// Starts `executable` with `arguments`, stdout and stderr appended to `logPath`.
    init(name: String, executable: String, arguments: [String], environment: [String: String]? = nil, logPath: String) throws {
        self.name = name
        self.logPath = logPath
        do {
            pid = try Spawner.spawn(
                executable, arguments, environment: environment ?? ProcessInfo.processInfo.environment, logPath: logPath)
        } catch {
            throw HarnessError.cannotStart(name, "\(error)")
        }
    }

    /// Waits until the log shows the listening port (first capture group of `pattern`), or `timeout`.
    func waitForPort(pattern: String, timeout: Duration) async throws {
        let regex = try Regex(pattern)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            guard isRunning else { throw HarnessError.cannotStart(name, "exited; see \(logPath)") }
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8),
                let match = text.firstMatch(of: regex),
                let captured = match.output[1].substring,
                let port = Int(captured)
            {
                self.port = port
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError.cannotStart(name, "no listening line within \(timeout); see \(logPath)")
    }

    /// Uses a port chosen beforehand (nginx) and waits until it accepts connections.
    func waitForListening(port: Int, timeout: Duration) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            guard isRunning else { throw HarnessError.cannotStart(name, "exited; see \(logPath)") }
            if PortProbe.accepts(port: port) {
                self.port = port
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError.cannotStart(name, "port \(port) not listening within \(timeout)")
    }

    /// SIGTERM, then SIGKILL after `grace`.
    func stop(grace: Duration = .seconds(3)) async {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while isRunning && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}

/// Loopback port helpers.
enum PortProbe {
    /// A currently free port on 127.0.0.1 (bound, read, released; the caller binds it next).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError.system("socket") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw HarnessError.system("bind") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw HarnessError.system("getsockname") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds now.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return address
    }
}

/// Why the harness stopped.
struct HarnessError: Error, CustomStringConvertible {
    let description: String

    static func cannotStart(_ name: String, _ reason: String) -> HarnessError {
        HarnessError(description: "\(name) did not start: \(reason)")
    }

    static func system(_ call: String) -> HarnessError {
        HarnessError(description: "\(call) failed: errno \(errno)")
    }

    static func missing(_ what: String) -> HarnessError {
        HarnessError(description: "missing: \(what)")
    }
}
