import Foundation

/// A server the harness started: its pid, its log file and the port it listens on.
package final class ChildProcess: @unchecked Sendable {
    // Used from the harness's main task only (start, wait, stop).
    package let name: String
    package let pid: pid_t
    package let logPath: String
    package private(set) var port = 0

    package var isRunning: Bool { Spawner.isRunning(pid) }

    /// Starts `executable` with `arguments`, stdout and stderr appended to `logPath`.
    package init(name: String, executable: String, arguments: [String], environment: [String: String]? = nil, logPath: String) throws {
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
    package func waitForPort(pattern: String, timeout: Duration) async throws {
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
    package func waitForListening(port: Int, timeout: Duration) async throws {
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
    package func stop(grace: Duration = .seconds(3)) async {
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
