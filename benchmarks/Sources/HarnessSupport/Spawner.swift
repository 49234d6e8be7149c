import Foundation

/// Starts programs with `posix_spawn`, with an empty signal mask and default signal actions.
///
/// Foundation's `Process` passes on the spawning thread's signal mask, and the threads of a Swift
/// program block most signals: `openssl speed` then never sees its SIGALRM (it hangs), and the servers
/// never see SIGTERM. Spawning with a clean mask gives the children what a shell would.
package enum Spawner {
    /// Starts `executable` with `arguments` and `environment`, stdin from /dev/null, stdout and stderr
    /// appended to `logPath`; returns the pid.
    package static func spawn(_ executable: String, _ arguments: [String], environment: [String: String], logPath: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else { throw HarnessError(description: "posix_spawn \(executable): error \(status)") }
        return pid
    }

    /// Whether `pid` (a child of ours) is still running; reaps it once it has exited.
    package static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Runs a short command to completion (at most `timeout`) and returns its combined output, trimmed.
    package static func output(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) -> String {
        let path = NSTemporaryDirectory() + "/load-harness-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).out"
        defer { unlink(path) }
        guard let pid = try? spawn(executable, arguments, environment: ProcessInfo.processInfo.environment, logPath: path) else {
            return ""
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while isRunning(pid) {
            if clock.now >= deadline {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                break
            }
            usleep(20_000)
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
