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
        let reply = try await send([ByteBuffer(string: "GET"), ByteBuffer(string: key)], timeout: timeout)
        switch try Self.checked(reply) {
        case .bulkString(let value): return value
        case .null: return nil
        default: throw .unexpectedReply(reply)
        }
    }

    /// SET key value [EX seconds] [NX]. Returns whether the value was written: with `onlyIfAbsent`, false means the
    /// key already existed and keeps its value (the first writer wins).
    package func set(
        _ key: String, to value: ByteBuffer, expireSeconds: Int? = nil, onlyIfAbsent: Bool = false, timeout: TimeAmount? = nil
    ) async throws(RedisClientError) -> Bool {
        var arguments = [ByteBuffer(string: "SET"), ByteBuffer(string: key), value]
        if let expireSeconds {
            arguments.append(ByteBuffer(string: "EX"))
            arguments.append(ByteBuffer(string: String(expireSeconds)))
        }
        if onlyIfAbsent { arguments.append(ByteBuffer(string: "NX")) }
        let reply = try await send(arguments, timeout: timeout)
        switch try Self.checked(reply) {
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

    /// `reply`, or `.server` for an error reply.
    static func checked(_ reply: RESPValue) throws(RedisClientError) -> RESPValue {
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }
}
