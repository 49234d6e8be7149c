import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Up to `maxConnections` connections to one Redis server, opened on demand and shared: each command goes to the next
/// connection in turn and is pipelined there behind the commands already in flight, so callers never queue for a
/// connection of their own.
///
/// A closed connection is replaced by the next command that picks its slot. After a failed connect the pool waits
/// (`reconnectBackoff`, doubling up to `maxReconnectBackoff`) before trying again; meanwhile commands use the
/// connections still open or fail at once with "unavailable", so a dead server costs callers no waiting. The pool
/// never resends a command: after a lost connection the server may or may not have run it (a resent `SET NX` would
/// report "not set" for its own write).
package final class RedisConnectionPool: Sendable {
    private enum Slot {
        case empty
        case connecting(EventLoopFuture<RedisConnection>)
        case ready(RedisConnection)
    }

    private struct State {
        var slots: [Slot]
        var next = 0
        /// No connect attempt before this, after a failure.
        var retryAt: NIODeadline?
        var backoff: TimeAmount
        var lastError: RedisClientError?
        /// The last logged state (nil before the first connect), so each change is logged once.
        var reachable: Bool?
        var closed = false
    }

    private enum Action {
        case use(RedisConnection)
        case wait(EventLoopFuture<RedisConnection>)
        case connect(index: Int, promise: EventLoopPromise<RedisConnection>)
        case fail(RedisClientError)
    }

    package let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state: Mutex<State>

    package init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "redis")
    ) {
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        self.state = Mutex(
            State(slots: Array(repeating: .empty, count: max(1, configuration.maxConnections)), backoff: configuration.reconnectBackoff))
    }

    /// Sends one command on a pooled connection and returns its reply, an error reply included (as `.error`).
    package func send(_ arguments: [ByteBuffer], timeout: TimeAmount? = nil) async throws(RedisClientError) -> RESPValue {
        try await connection().send(arguments, timeout: timeout)
    }

    /// Sends one command given as text.
    package func send(_ arguments: [String], timeout: TimeAmount? = nil) async throws(RedisClientError) -> RESPValue {
        try await connection().send(arguments, timeout: timeout)
    }

    /// Sends one command and completes the future with its reply on `eventLoop`. With an open connection in the next
    /// slot no task is made: the command is written from the caller's thread and the reply hops to `eventLoop` once
    /// (a task per command costs a trip through the global executor each way, measurable per completion).
    package func send(_ arguments: [ByteBuffer], on eventLoop: any EventLoop, timeout: TimeAmount? = nil) -> EventLoopFuture<RESPValue> {
        let open = state.withLock { state -> RedisConnection? in
            guard !state.closed, case .ready(let connection) = state.slots[state.next], connection.isActive else { return nil }
            state.next = (state.next + 1) % state.slots.count
            return connection
        }
        if let open { return open.sendReply(arguments, timeout: timeout).hop(to: eventLoop) }
        return eventLoop.makeFutureWithTask { () async throws -> RESPValue in
            try await self.send(arguments, timeout: timeout)
        }
    }

    /// Sends `commands` back to back on one connection; the replies in order, error replies included.
    package func pipeline(_ commands: [[ByteBuffer]], timeout: TimeAmount? = nil) async throws(RedisClientError) -> [RESPValue] {
        try await connection().pipeline(commands, timeout: timeout)
    }

    /// Closes every connection; later commands fail with "pool closed".
    package func shutdown() async {
        let connections = state.withLock { state -> [RedisConnection] in
            state.closed = true
            let open = state.slots.compactMap { slot -> RedisConnection? in
                if case .ready(let connection) = slot { return connection }
                return nil
            }
            state.slots = state.slots.map { _ in .empty }
            return open
        }
        for connection in connections { await connection.close() }
    }

    /// An open connection: the next slot's, a new one in that slot, or (while waiting after a failure) any open one.
    package func connection() async throws(RedisClientError) -> RedisConnection {
        let now = NIODeadline.now()
        let action = state.withLock { state -> Action in
            if state.closed { return .fail(.poolClosed) }
            let index = state.next
            state.next = (index + 1) % state.slots.count
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .use(connection)
            case .connecting(let future):
                return .wait(future)
            case .ready, .empty:
                if let retryAt = state.retryAt, now < retryAt {
                    for slot in state.slots {
                        if case .ready(let connection) = slot, connection.isActive { return .use(connection) }
                    }
                    return .fail(.unavailable("retrying after: \(state.lastError.map(\.description) ?? "a failure")"))
                }
                let promise = group.any().makePromise(of: RedisConnection.self)
                state.slots[index] = .connecting(promise.futureResult)
                return .connect(index: index, promise: promise)
            }
        }
        switch action {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .wait(let future):
            do {
                return try await future.get()
            } catch let error as RedisClientError {
                throw error
            } catch {
                throw .connect("\(error)")
            }
        case .connect(let index, let promise):
            do throws(RedisClientError) {
                let connection = try await RedisConnection.connect(configuration, on: promise.futureResult.eventLoop)
                let (kept, recovered) = state.withLock { state -> (Bool, Bool) in
                    if state.closed { return (false, false) }
                    state.slots[index] = .ready(connection)
                    state.retryAt = nil
                    state.backoff = configuration.reconnectBackoff
                    let recovered = state.reachable != true
                    state.reachable = true
                    return (true, recovered)
                }
                guard kept else {
                    await connection.close()
                    promise.fail(RedisClientError.poolClosed)
                    throw RedisClientError.poolClosed
                }
                if recovered { logger.info("connected to Redis", metadata: ["redis": "\(configuration)"]) }
                promise.succeed(connection)
                return connection
            } catch {
                let (changed, backoff) = state.withLock { state -> (Bool, TimeAmount) in
                    if !state.closed { state.slots[index] = .empty }
                    let backoff = state.backoff
                    state.retryAt = .now() + backoff
                    state.backoff = min(backoff * 2, configuration.maxReconnectBackoff)
                    state.lastError = error
                    let changed = state.reachable != false
                    state.reachable = false
                    return (changed, backoff)
                }
                if changed {
                    logger.warning(
                        "Redis unreachable, retrying with backoff",
                        metadata: ["redis": "\(configuration)", "error": "\(error)", "backoff_ms": "\(backoff.nanoseconds / 1_000_000)"])
                }
                promise.fail(error)
                throw error
            }
        }
    }
}
