import NIOCore
import NIOPosix

/// One TCP connection to a Redis server, set up (AUTH, SELECT) and ready for commands.
///
/// Commands sent concurrently, or together with `pipeline`, share the connection: they are written back to back and
/// their replies matched in order.
package final class RedisConnection: Sendable {
    let channel: any Channel
    /// Used for commands sent without their own timeout.
    let commandTimeout: TimeAmount

    private init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    /// True until the connection closes (for any reason: server, network, timeout, parse error).
    package var isActive: Bool { channel.isActive }

    /// Completes when the connection has closed.
    package var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Opens a connection to `configuration`'s server, authenticates and selects its database.
    package static func connect(
        _ configuration: RedisConfiguration, on eventLoop: any EventLoop
    ) async throws(RedisClientError) -> RedisConnection {
        let limits = configuration.limits
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RedisConnectionHandler(limits: limits))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
        } catch {
            throw .connect("\(configuration.endpoint): \(error)")
        }
        let connection = RedisConnection(channel: channel, commandTimeout: configuration.commandTimeout)
        do {
            if let password = configuration.password {
                var arguments = ["AUTH"]
                if let username = configuration.username { arguments.append(username) }
                arguments.append(password)
                try await connection.expectOK(arguments)
            }
            if configuration.database != 0 {
                try await connection.expectOK(["SELECT", String(configuration.database)])
            }
        } catch {
            await connection.close()
            throw error
        }
        return connection
    }

    /// Sends one command and returns its reply, an error reply included (as `.error`).
    package func send(_ arguments: [ByteBuffer], timeout: TimeAmount? = nil) async throws(RedisClientError) -> RESPValue {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        write([RedisCommand(arguments: arguments, promise: promise, deadline: .now() + (timeout ?? commandTimeout))])
        return try await Self.reply(promise.futureResult)
    }

    /// Sends one command; its reply (or `RedisClientError`) completes the future, on this connection's event loop.
    package func sendReply(_ arguments: [ByteBuffer], timeout: TimeAmount? = nil) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        write([RedisCommand(arguments: arguments, promise: promise, deadline: .now() + (timeout ?? commandTimeout))])
        return promise.futureResult
    }

    /// Sends one command given as text.
    package func send(_ arguments: [String], timeout: TimeAmount? = nil) async throws(RedisClientError) -> RESPValue {
        try await send(arguments.map { ByteBuffer(string: $0) }, timeout: timeout)
    }

    /// Sends `commands` in one write and returns their replies in the same order, error replies included. Throws when
    /// any of them got no reply (the connection failed); the others may have run.
    package func pipeline(_ commands: [[ByteBuffer]], timeout: TimeAmount? = nil) async throws(RedisClientError) -> [RESPValue] {
        let deadline = NIODeadline.now() + (timeout ?? commandTimeout)
        let promises = commands.map { _ in channel.eventLoop.makePromise(of: RESPValue.self) }
        // One timer for the batch, on its last command: replies come in order, so while any command of the batch
        // waits, the last one does too, and its timeout fails them all.
        write(
            commands.indices.map {
                RedisCommand(arguments: commands[$0], promise: promises[$0], deadline: $0 == commands.count - 1 ? deadline : nil)
            })
        // One wait for all replies: awaiting each future in turn costs a hop to the event loop per reply.
        do {
            return try await EventLoopFuture.whenAllSucceed(promises.map(\.futureResult), on: channel.eventLoop).get()
        } catch let error as RedisClientError {
            throw error
        } catch {
            throw .connectionClosed
        }
    }

    /// Closes the connection; pending commands fail with `connectionClosed`.
    package func close() async {
        try? await channel.close()
    }

    private func write(_ commands: [RedisCommand]) {
        channel.writeAndFlush(commands).whenFailure { error in
            // The handler fails its own commands; this catches a write that never reached it (channel already closed).
            // A promise the handler completed ignores this second completion.
            let failure = (error as? RedisClientError) ?? .connectionClosed
            for command in commands { command.promise.fail(failure) }
        }
    }

    private func expectOK(_ arguments: [String]) async throws(RedisClientError) {
        let reply = try await send(arguments)
        switch reply {
        case .simpleString("OK"): return
        case .error(let message): throw .authentication("\(arguments[0]): \(message)")
        default: throw .unexpectedReply(reply)
        }
    }

    private static func reply(_ future: EventLoopFuture<RESPValue>) async throws(RedisClientError) -> RESPValue {
        do {
            return try await future.get()
        } catch let error as RedisClientError {
            throw error
        } catch {
            throw .connectionClosed
        }
    }
}
