import NIOCore
import Testing

@testable import RedisClient

/// Against a fake server on loopback that is not Redis, breaks the protocol or never answers: the client fails the
/// command with a clear error, in bounded time, and keeps working.
@Suite("Redis client against broken servers", .timeLimit(.minutes(1)))
struct RedisFaultyServerTests {
    /// - Parameter commandTimeout: short where a timeout is the expected outcome; long where another error
    ///   is, so that a machine busy with the whole test run does not turn it into a timeout.
    static func configuration(port: Int, commandTimeout: TimeAmount = .milliseconds(300)) -> RedisConfiguration {
        var configuration = RedisConfiguration(host: "127.0.0.1", port: port)
        configuration.maxConnections = 1
        // Long: a connect that stalls on a busy machine must not pass for the outcome under test.
        configuration.connectTimeout = .seconds(10)
        configuration.commandTimeout = commandTimeout
        configuration.reconnectBackoff = .milliseconds(10)
        configuration.maxReconnectBackoff = .milliseconds(10)
        configuration.limits = RESPParser.Limits(maxBulkLength: 1024, maxArrayLength: 16, maxDepth: 4, maxLineLength: 256)
        return configuration
    }

    /// Sends PING three times (each on a fresh connection after the previous failed) and returns the errors.
    static func pingErrors(
        _ behaviour: FakeRedisServer.Behaviour, commandTimeout: TimeAmount = .milliseconds(300)
    ) async throws -> [RedisClientError] {
        let server = try await FakeRedisServer.start(behaviour)
        let pool = RedisConnectionPool(configuration: configuration(port: server.port, commandTimeout: commandTimeout), logger: .quiet)
        var errors: [RedisClientError] = []
        for _ in 0..<3 {
            let start = ContinuousClock.now
            do throws(RedisClientError) {
                let reply = try await pool.send(["PING"])
                Issue.record("got a reply: \(reply)")
            } catch {
                errors.append(error)
            }
            #expect(ContinuousClock.now - start < .nanoseconds(commandTimeout.nanoseconds) + .seconds(2))
            try await Task.sleep(for: .milliseconds(15))  // past the reconnect backoff
        }
        await pool.shutdown()
        await server.stop()
        return errors
    }

    @Test(
        "garbage and oversized replies are protocol errors",
        arguments: [
            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
            "\u{15}\u{03}\u{03}\u{00}\u{02}\u{02}\u{50}",  // a TLS alert
            "+PONG\n",
            "$5\r\nPONGXYZ",
            ":1x\r\n",
            "$-7\r\n",
            "$99999999999999999999999\r\n",
            "$1025\r\n",
            "*17\r\n",
            "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n",
            "+" + String(repeating: "A", count: 300),
        ])
    func garbage(_ reply: String) async throws {
        let errors = try await Self.pingErrors(.reply(reply), commandTimeout: .seconds(10))
        #expect(errors.count == 3)
        for error in errors { #expect(error.isProtocolError, "\(error)") }
    }

    @Test("a reply dribbled one byte per packet is still whole")
    func dribble() async throws {
        let server = try await FakeRedisServer.start(.dribble("*2\r\n$4\r\nPONG\r\n:42\r\n"))
        let pool = RedisConnectionPool(configuration: Self.configuration(port: server.port, commandTimeout: .seconds(10)), logger: .quiet)
        #expect(try await pool.send(["PING"]) == .array([.bulkString(ByteBuffer(string: "PONG")), .integer(42)]))
        await pool.shutdown()
        await server.stop()
    }

    @Test(
        "a server that never answers, or stops mid-reply, gives a timeout",
        arguments: [FakeRedisServer.Behaviour.silent, .reply("$10\r\nabc"), .reply("*2\r\n+OK\r\n")])
    func silence(_ behaviour: FakeRedisServer.Behaviour) async throws {
        let errors = try await Self.pingErrors(behaviour)
        #expect(errors == [.timeout, .timeout, .timeout])
    }

    @Test("a pipeline answered in part times out as a whole, in bounded time")
    func partialPipeline() async throws {
        let server = try await FakeRedisServer.start(.reply("+PONG\r\n"))  // one reply per read, three commands
        let pool = RedisConnectionPool(configuration: Self.configuration(port: server.port), logger: .quiet)
        let start = ContinuousClock.now
        await #expect(throws: RedisClientError.timeout) {
            try await pool.pipeline(Array(repeating: [ByteBuffer(string: "PING")], count: 3), timeout: .milliseconds(200))
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        await pool.shutdown()
        await server.stop()
    }

    @Test("a server that hangs up gives connection closed")
    func hangUp() async throws {
        let errors = try await Self.pingErrors(.close, commandTimeout: .seconds(10))
        #expect(errors == [.connectionClosed, .connectionClosed, .connectionClosed])
    }

    @Test("an extra reply nobody asked for closes the connection")
    func unsolicited() async throws {
        let server = try await FakeRedisServer.start(.reply("+PONG\r\n+PONG\r\n"))
        let pool = RedisConnectionPool(configuration: Self.configuration(port: server.port, commandTimeout: .seconds(10)), logger: .quiet)
        let connection = try await pool.connection()
        // The first PONG answers; the second has no command and must not be taken for the next one's reply.
        #expect(try await connection.send(["PING"]) == .simpleString("PONG"))
        try await connection.closeFuture.get()
        await #expect(throws: RedisClientError.self) { try await connection.send(["PING"]) }
        await pool.shutdown()
        await server.stop()
    }

    @Test("nothing listening: a connect error, then fast failures while backing off")
    func refused() async throws {
        var configuration = Self.configuration(port: RefusedPort.port)
        configuration.reconnectBackoff = .seconds(10)
        let pool = RedisConnectionPool(configuration: configuration, logger: .quiet)
        await #expect(throws: RedisClientError.self) { try await pool.ping() }
        let start = ContinuousClock.now
        do throws(RedisClientError) {
            try await pool.ping()
        } catch {
            #expect(error.isConnectionFailure)
            #expect(error.description.hasPrefix("Redis unavailable"), "\(error)")
        }
        // No connect attempt, only a lock and a throw: far inside the 10 s backoff even on a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(3))
        await pool.shutdown()
        await #expect(throws: RedisClientError.poolClosed) { try await pool.ping() }
    }
}
