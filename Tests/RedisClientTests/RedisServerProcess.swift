import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import RedisClient

/// A real `redis-server` (Debian package `redis-server`) on 127.0.0.1 and a free port, without persistence, in a
/// temporary directory; `withRedisServer` always stops it. The tests fail, not skip, when the binary is missing.
final class RedisServerProcess {
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    let port: Int
    private let arguments: [String]
    private let directory: URL
    private var process: Process?

    private init(port: Int, arguments: [String], directory: URL) {
        self.port = port
        self.arguments = arguments
        self.directory = directory
    }

    /// The pool settings the tests use against this server: short, bounded waits.
    func configuration(password: String? = nil, username: String? = nil, database: Int = 0) -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port, username: username, password: password, database: database)
        configuration.maxConnections = 2
        // Loopback connects are instant, but the whole test run shares two cores: a second-long stall happens.
        configuration.connectTimeout = .seconds(10)
        configuration.commandTimeout = .seconds(2)
        configuration.reconnectBackoff = .milliseconds(20)
        configuration.maxReconnectBackoff = .milliseconds(200)
        return configuration
    }

    static var executable: String {
        get throws {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
            let directories = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
            for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/redis-server") {
                return directory + "/redis-server"
            }
            throw StartError(
                description: "redis-server not found: install the Debian package redis-server (make deps installs it)")
        }
    }

    /// Runs `body` with a fresh server, then stops it, whether `body` returned or threw.
    static func withRedisServer<T>(
        extraArguments: [String] = [], _ body: (RedisServerProcess) async throws -> T
    ) async throws -> T {
        let server = try await start(extraArguments: extraArguments)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Starts a server on a free port, trying another port if the chosen one was taken meanwhile.
    static func start(extraArguments: [String]) async throws -> RedisServerProcess {
        let executable = try executable
        var lastError: (any Error)?
        for _ in 0..<3 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let port = try await freePort()
            let server = RedisServerProcess(
                port: port,
                arguments: [
                    "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory.path,
                    "--daemonize", "no", "--logfile", directory.appendingPathComponent("redis.log").path,
                ] + extraArguments, directory: directory)
            do {
                try await server.launch(executable)
                return server
            } catch {
                lastError = error
                await server.stop()
            }
        }
        throw lastError!
    }

    /// Starts the process again with the same port and arguments (after `kill`).
    func restart() async throws {
        try await launch(try Self.executable)
    }

    /// SIGKILL, as a crash or an OOM kill would: no goodbye to clients.
    func kill() async {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        await Self.waitForExit(process, within: .seconds(5))
        self.process = nil
    }

    /// Kills the server and removes its directory. SIGKILL, not SIGTERM: the test runner's threads block SIGTERM and
    /// the child inherits that mask, so `terminate()` would go unnoticed; without persistence there is nothing to save.
    func stop() async {
        await kill()
        try? FileManager.default.removeItem(at: directory)
    }

    private func launch(_ executable: String) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Ready when it answers PING as Redis does (NOAUTH counts: a password-protected server); the log says why
        // when it never does (port taken, bad argument). An accepted connection alone is not enough: the port may
        // have been taken meanwhile by another test's server, which then answers in its own protocol.
        let deadline = ContinuousClock.now + .seconds(5)
        var probe = RedisConfiguration(host: "127.0.0.1", port: port)
        probe.connectTimeout = .milliseconds(200)
        probe.commandTimeout = .seconds(1)
        probing: while ContinuousClock.now < deadline {
            guard process.isRunning else { break }
            if let connection = try? await RedisConnection.connect(probe, on: MultiThreadedEventLoopGroup.singleton.any()) {
                let answeredAsRedis: Bool
                do throws(RedisClientError) {
                    _ = try await connection.send(["PING"])
                    answeredAsRedis = true
                } catch {
                    answeredAsRedis = error.serverMessage != nil
                }
                await connection.close()
                guard answeredAsRedis, process.isRunning else { break probing }
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
        throw StartError(description: "redis-server did not start on port \(port): \(log.suffix(500))")
    }

    private static func waitForExit(_ process: Process, within limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// A port nothing listens on now: bound to port 0, read back, released.
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress!.port!
        try await channel.close()
        return port
    }
}
