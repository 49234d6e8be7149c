import NIOCore

/// One command on its way to the connection handler, with the promise its reply completes.
struct RedisCommand: Sendable {
    /// The command name and its arguments, each sent as a bulk string.
    var arguments: [ByteBuffer]
    var promise: EventLoopPromise<RESPValue>
    /// When the reply is overdue; nil waits as long as the connection lives.
    var deadline: NIODeadline?
}
