import Logging
import NIOCore
import NIOPosix
import Testing

@testable import RedisClient

/// Against a real redis-server started per test on loopback (RedisServerProcess).
@Suite("Redis client against a real redis-server", .timeLimit(.minutes(1)))
struct RedisConnectionPoolTests {
    /// Runs `body` with a pool on a fresh server, shutting both down afterwards.
    static func withPool<T>(
        serverArguments: [String] = [], logger: Logger = .quiet, _ body: (RedisConnectionPool, RedisServerProcess) async throws -> T
    ) async throws -> T {
        try await RedisServerProcess.withRedisServer(extraArguments: serverArguments) { server in
            let pool = RedisConnectionPool(configuration: server.configuration(), logger: logger)
            do {
                let result = try await body(pool, server)
                await pool.shutdown()
                return result
            } catch {
                await pool.shutdown()
                throw error
            }
        }
    }

    @Test("PING, GET of a missing key is nil, SET then GET, DEL; values are binary-safe")
    func basics() async throws {
        try await Self.withPool { pool, _ in
            try await pool.ping()
            #expect(try await pool.get("missing") == nil)
            let value = ByteBuffer(bytes: [0, 0x0D, 0x0A, 0xFF, 0x24, 0x2A] + Array("receipt".utf8))
            #expect(try await pool.set("k", to: value))
            #expect(try await pool.get("k") == value)
            #expect(try await pool.set("empty", to: ByteBuffer()))
            #expect(try await pool.get("empty") == ByteBuffer())
            #expect(try await pool.delete(["k", "empty", "missing"]) == 2)
            #expect(try await pool.get("k") == nil)
            // An error reply is a value from send and an error from the typed commands.
            let reply = try await pool.send(["NOSUCHCOMMAND"])
            guard case .error(let message) = reply else { throw RedisServerProcess.StartError(description: "\(reply)") }
            #expect(message.hasPrefix("ERR unknown command"))
            #expect(try await pool.set("list", to: ByteBuffer(string: "x")))
            _ = try await pool.send(["DEL", "list"])
            _ = try await pool.send(["LPUSH", "list", "a"])
            await #expect(throws: RedisClientError.server("WRONGTYPE Operation against a key holding the wrong kind of value")) {
                try await pool.get("list")
            }
        }
    }

    @Test("compare-and-delete: only while the key holds exactly the value")
    func deleteIfValue() async throws {
        try await Self.withPool { (pool, _) async throws -> Void in
            let mine = ByteBuffer(bytes: [0, 0x0D, 0x0A] + Array("mine".utf8))
            #expect(!(try await pool.delete("k", ifValue: mine)))  // no such key
            #expect(try await pool.set("k", to: ByteBuffer(string: "theirs")))
            #expect(!(try await pool.delete("k", ifValue: mine)))
            #expect(try await pool.get("k") == ByteBuffer(string: "theirs"))
            #expect(try await pool.set("k", to: mine))
            #expect(try await pool.delete("k", ifValue: mine))
            #expect(try await pool.get("k") == nil)
        }
    }

    @Test("SET NX EX: the first writer wins, among 32 concurrent writers, and the TTL is set")
    func firstWriterWins() async throws {
        try await Self.withPool { pool, _ in
            let winners = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for writer in 0..<32 {
                    group.addTask {
                        (writer, try await pool.set("receipt:1", to: ByteBuffer(string: "writer \(writer)"), expireSeconds: 60, onlyIfAbsent: true))
                    }
                }
                var winners: [Int] = []
                for try await (writer, written) in group where written { winners.append(writer) }
                return winners
            }
            #expect(winners.count == 1)
            let stored = try await pool.get("receipt:1")
            #expect(stored == ByteBuffer(string: "writer \(winners.first ?? -1)"))
            #expect(try await pool.set("receipt:1", to: ByteBuffer(string: "late"), expireSeconds: 60, onlyIfAbsent: true) == false)
            #expect(try await pool.get("receipt:1") == stored)
            guard case .integer(let ttl) = try await pool.send(["TTL", "receipt:1"]) else { throw RedisClientError.timeout }
            #expect((55...60).contains(ttl))
        }
    }

    @Test("EX 1: the key is gone within a bounded wait, and SET NX works again")
    func expiry() async throws {
        try await Self.withPool { pool, _ in
            // SET and TTL pipelined, so Redis runs them back to back: a busy client cannot let the second past the
            // first's second of life.
            let replies = try await pool.pipeline(
                [["SET", "short", "v", "EX", "1", "NX"], ["TTL", "short"]].map { $0.map { ByteBuffer(string: $0) } })
            #expect(replies.first == .simpleString("OK"))
            guard case .integer(let ttl) = replies.last else { throw RedisClientError.timeout }
            #expect((0...1).contains(ttl))
            let start = ContinuousClock.now
            while try await pool.get("short") != nil {
                #expect(ContinuousClock.now - start < .seconds(3), "still there after 3 s")
                if ContinuousClock.now - start >= .seconds(3) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await pool.set("short", to: ByteBuffer(string: "w"), expireSeconds: 1, onlyIfAbsent: true))
        }
    }

    @Test("AUTH: no password gets NOAUTH, a wrong one a clear error without the password, the right one works, also as an ACL user")
    func authentication() async throws {
        try await RedisServerProcess.withRedisServer(extraArguments: ["--requirepass", "right-horse"]) { server in
            let anonymous = RedisConnectionPool(configuration: server.configuration(), logger: .quiet)
            await #expect(throws: RedisClientError.self) { try await anonymous.ping() }
            do throws(RedisClientError) {
                try await anonymous.ping()
            } catch {
                #expect(error.serverMessage?.hasPrefix("NOAUTH") == true, "\(error)")
            }
            await anonymous.shutdown()

            let wrong = RedisConnectionPool(configuration: server.configuration(password: "wrong-battery"), logger: .quiet)
            do throws(RedisClientError) {
                try await wrong.ping()
                Issue.record("a wrong password connected")
            } catch {
                #expect(error.isAuthentication)
                #expect(error.serverMessage?.contains("WRONGPASS") == true, "\(error)")
                #expect(!error.description.contains("wrong-battery"))
            }
            // While backing off the pool fails at once, and still says why.
            do throws(RedisClientError) {
                try await wrong.ping()
            } catch {
                #expect(error.description.contains("WRONGPASS"), "\(error)")
            }
            await wrong.shutdown()

            let right = RedisConnectionPool(configuration: server.configuration(password: "right-horse"), logger: .quiet)
            try await right.ping()
            #expect(try await right.send(["ACL", "SETUSER", "alice", "on", ">alice-pw", "~receipt:*", "+@all"]) == .simpleString("OK"))
            await right.shutdown()

            let alice = RedisConnectionPool(configuration: server.configuration(password: "alice-pw", username: "alice"), logger: .quiet)
            #expect(try await alice.set("receipt:a", to: ByteBuffer(string: "1")))
            await #expect(throws: RedisClientError.self) { try await alice.get("other") }  // outside her key pattern
            #expect(try await alice.send(["ACL", "WHOAMI"]).string == "alice")
            await alice.shutdown()
        }
    }

    @Test("SELECT: pools on databases 0 and 5 do not see each other's keys")
    func databases() async throws {
        try await RedisServerProcess.withRedisServer { server async throws in
            let zero = RedisConnectionPool(configuration: server.configuration(), logger: .quiet)
            let five = RedisConnectionPool(configuration: server.configuration(database: 5), logger: .quiet)
            #expect(try await zero.set("k", to: ByteBuffer(string: "zero")))
            #expect(try await five.get("k") == nil)
            #expect(try await five.set("k", to: ByteBuffer(string: "five")))
            #expect(try await zero.get("k") == ByteBuffer(string: "zero"))
            #expect(try await five.get("k") == ByteBuffer(string: "five"))
            #expect(try await five.send(["DBSIZE"]) == .integer(1))
            await zero.shutdown()
            await five.shutdown()

            var outOfRange = server.configuration(database: 99)  // the server has 16 databases
            outOfRange.maxConnections = 1
            let bad = RedisConnectionPool(configuration: outOfRange, logger: .quiet)
            do throws(RedisClientError) {
                try await bad.ping()
                Issue.record("SELECT 99 succeeded")
            } catch {
                #expect(error.isAuthentication && error.description.contains("SELECT"), "\(error)")
            }
            await bad.shutdown()
        }
    }

    @Test("pipelining: 2,000 commands in one write come back in order; 400 concurrent callers each get their own reply")
    func pipelining() async throws {
        try await Self.withPool { pool, _ in
            let sets = (0..<1000).map { [ByteBuffer(string: "SET"), ByteBuffer(string: "p:\($0)"), ByteBuffer(string: "v\($0)")] }
            let gets = (0..<1000).map { [ByteBuffer(string: "GET"), ByteBuffer(string: "p:\($0)")] }
            let replies = try await pool.pipeline(sets + gets)
            #expect(replies.count == 2000)
            #expect(replies[..<1000].allSatisfy { $0 == .simpleString("OK") })
            #expect(Array(replies[1000...]) == (0..<1000).map { .bulkString(ByteBuffer(string: "v\($0)")) })

            let mismatches = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<400 {
                    group.addTask {
                        let reply = try await pool.send(["INCRBY", "c:\(index % 7)", "\(index)"])
                        let echo = try await pool.send(["ECHO", "caller \(index)"])
                        guard case .integer = reply else { return true }
                        return echo.string != "caller \(index)"
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(mismatches == 0)
            var total: Int64 = 0
            for counter in 0..<7 {
                if case .bulkString(let value) = try await pool.send(["GET", "c:\(counter)"]) { total += Int64(String(buffer: value))! }
            }
            #expect(total == Int64((0..<400).reduce(0, +)))
        }
    }

    @Test("a command past its timeout fails with a timeout; the pool goes on with a new connection")
    func commandTimeout() async throws {
        try await Self.withPool { pool, _ in
            let start = ContinuousClock.now
            await #expect(throws: RedisClientError.timeout) {
                try await pool.send(["BLPOP", "never", "5"], timeout: .milliseconds(200))
            }
            #expect(ContinuousClock.now - start < .seconds(2))
            for _ in 0..<4 { try await pool.ping() }
        }
    }

    @Test("server killed mid-use: in-flight and new commands fail fast; restarted on the same port, the pool recovers by itself")
    func killAndRestart() async throws {
        let log = RecordingLogHandler.Store()
        try await Self.withPool(logger: RecordingLogHandler.logger(log)) { pool, server in
            #expect(try await pool.set("before", to: ByteBuffer(string: "1")))
            let blocked = Task { try await pool.send(["BLPOP", "never", "10"], timeout: .seconds(15)) }
            // Kill only once the server holds the command (a probe on its own connection: the pool's may be blocked).
            let probe = try await RedisConnection.connect(server.configuration(), on: MultiThreadedEventLoopGroup.singleton.any())
            let waitStart = ContinuousClock.now
            while ContinuousClock.now - waitStart < .seconds(5) {
                if try await probe.send(["INFO", "clients"]).string?.contains("blocked_clients:1") == true { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            await probe.close()
            await server.kill()
            switch await blocked.result {
            case .success(let reply): Issue.record("a command survived the server's death: \(reply)")
            case .failure(let error): #expect((error as? RedisClientError) == .connectionClosed, "\(error)")
            }
            // Down: every command fails, none waits for long.
            var failures = 0
            let downStart = ContinuousClock.now
            for _ in 0..<20 {
                do throws(RedisClientError) {
                    try await pool.ping()
                } catch {
                    #expect(error.isConnectionFailure, "\(error)")
                    failures += 1
                }
            }
            #expect(failures == 20)
            #expect(ContinuousClock.now - downStart < .seconds(2))

            try await server.restart()
            let upStart = ContinuousClock.now
            var recovered = false
            while ContinuousClock.now - upStart < .seconds(5) {
                if (try? await pool.ping()) != nil {
                    recovered = true
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(recovered, "the pool did not reconnect within 5 s")
            // Both connections work again, and the restarted server kept nothing (no persistence).
            for _ in 0..<4 { #expect(try await pool.get("before") == nil) }
            // Logged once per change of state, not once per failed command: up, down, up again.
            #expect(log.all.map(\.0) == [.info, .warning, .info], "\(log.all)")
        }
    }
}
