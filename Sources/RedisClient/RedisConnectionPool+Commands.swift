import NIOCore

/// The commands a receipt store needs, with Redis error replies turned into `RedisClientError.server`.
extension RedisConnectionPool {
    /// PING; throws unless the server answers PONG.
    package func ping(timeout: TimeAmount? = nil) async throws(RedisClientError) {
        let reply = try await send(["PING"], timeout: timeout)
        guard case .simpleString("PONG") = try Self.checked(reply) else { throw .unexpectedReply(reply) }
    }

    /// GET: the value, or nil when the key does not exist (or has expired).
    package func get(_ key: String, timeout: TimeAmount? = nil) async throws(RedisClientError) -> ByteBuffer? {
        try Self.getReply(try await send([ByteBuffer(string: "GET"), ByteBuffer(string: key)], timeout: timeout))
    }

    /// SET key value [EX seconds] [NX]. Returns whether the value was written: with `onlyIfAbsent`, false means the
    /// key already existed and keeps its value (the first writer wins).
    package func set(
        _ key: String, to value: ByteBuffer, expireSeconds: Int? = nil, onlyIfAbsent: Bool = false, timeout: TimeAmount? = nil
    ) async throws(RedisClientError) -> Bool {
        let reply = try await send(Self.setArguments(key, value, expireSeconds: expireSeconds, onlyIfAbsent: onlyIfAbsent), timeout: timeout)
        return try Self.setReply(reply, onlyIfAbsent: onlyIfAbsent)
    }

    /// SET as ``set(_:to:expireSeconds:onlyIfAbsent:timeout:)`` does, answered on `eventLoop` without a task while
    /// a connection is open; the future fails with a `RedisClientError`.
    package func set(
        _ key: String, to value: ByteBuffer, expireSeconds: Int? = nil, onlyIfAbsent: Bool = false, on eventLoop: any EventLoop,
        timeout: TimeAmount? = nil
    ) -> EventLoopFuture<Bool> {
        send(Self.setArguments(key, value, expireSeconds: expireSeconds, onlyIfAbsent: onlyIfAbsent), on: eventLoop, timeout: timeout)
            .flatMapThrowing { reply in try Self.setReply(reply, onlyIfAbsent: onlyIfAbsent) }
    }

    /// GET as ``get(_:timeout:)`` does, answered on `eventLoop` without a task while a connection is open.
    package func get(_ key: String, on eventLoop: any EventLoop, timeout: TimeAmount? = nil) -> EventLoopFuture<ByteBuffer?> {
        send([ByteBuffer(string: "GET"), ByteBuffer(string: key)], on: eventLoop, timeout: timeout)
            .flatMapThrowing { reply in try Self.getReply(reply) }
    }

    private static func getReply(_ reply: RESPValue) throws(RedisClientError) -> ByteBuffer? {
        switch try checked(reply) {
        case .bulkString(let value): return value
        case .null: return nil
        default: throw .unexpectedReply(reply)
        }
    }

    private static func setArguments(_ key: String, _ value: ByteBuffer, expireSeconds: Int?, onlyIfAbsent: Bool) -> [ByteBuffer] {
        var arguments = [ByteBuffer(string: "SET"), ByteBuffer(string: key), value]
        if let expireSeconds {
            arguments.append(ByteBuffer(string: "EX"))
            arguments.append(ByteBuffer(string: String(expireSeconds)))
        }
        if onlyIfAbsent { arguments.append(ByteBuffer(string: "NX")) }
        return arguments
    }

    private static func setReply(_ reply: RESPValue, onlyIfAbsent: Bool) throws(RedisClientError) -> Bool {
        switch try checked(reply) {
        case .simpleString("OK"): return true
        case .null where onlyIfAbsent: return false
        default: throw .unexpectedReply(reply)
        }
    }

    /// DEL: how many of `keys` existed and were removed.
    @discardableResult
    package func delete(_ keys: [String], timeout: TimeAmount? = nil) async throws(RedisClientError) -> Int {
        let reply = try await send(["DEL"] + keys, timeout: timeout)
        guard case .integer(let count) = try Self.checked(reply) else { throw .unexpectedReply(reply) }
        return Int(count)
    }

    /// Deletes `key` only while it holds exactly `value` (a script, so the check and the delete are one step):
    /// a key that expired and was written again by someone else since is left alone. Returns whether it was deleted.
    @discardableResult
    package func delete(_ key: String, ifValue value: ByteBuffer, timeout: TimeAmount? = nil) async throws(RedisClientError) -> Bool {
        let arguments = [
            ByteBuffer(string: "EVAL"), ByteBuffer(string: Self.compareAndDelete), ByteBuffer(string: "1"), ByteBuffer(string: key), value,
        ]
        let reply = try await send(arguments, timeout: timeout)
        guard case .integer(let count) = try Self.checked(reply) else { throw .unexpectedReply(reply) }
        return count == 1
    }

    private static let compareAndDelete =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"

    /// `reply`, or `.server` for an error reply.
    static func checked(_ reply: RESPValue) throws(RedisClientError) -> RESPValue {
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }
}
