import DequeModule
import NIOCore

/// Encodes commands and matches replies to them in order (RESP2 answers each command once, in the order sent), so any
/// number of commands can be in flight on one connection: pipelining.
///
/// A timeout, a parse error or an unsolicited reply leaves the stream out of step (a late reply would be taken for the
/// next command's), so each of them fails every pending command and closes the connection; the pool opens another.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = [RedisCommand]
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var id: UInt64
        var promise: EventLoopPromise<RESPValue>
        var timer: Scheduled<Void>?
    }

    private var parser: RESPParser
    private var pending = Deque<Pending>()
    private var nextID: UInt64 = 0
    /// Set once the connection is unusable; later commands fail at once.
    private var failed = false

    init(limits: RESPParser.Limits) {
        self.parser = RESPParser(limits: limits)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let commands = unwrapOutboundIn(data)
        if failed {
            for command in commands { command.promise.fail(RedisClientError.connectionClosed) }
            promise?.fail(RedisClientError.connectionClosed)
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 0)
        for command in commands {
            RESPEncoder.writeCommand(command.arguments, into: &buffer)
            let id = nextID
            nextID += 1
            var timer: Scheduled<Void>?
            if let deadline = command.deadline {
                timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                    // Pending entries are in id order: the command is still waiting if the oldest one is not newer.
                    guard let first = pending.first, first.id <= id else { return }
                    fail(context: context, with: .timeout)
                }
            }
            pending.append(Pending(id: id, promise: command.promise, timer: timer))
        }
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        // Bytes nobody asked for: no command's timer bounds them, so they are refused at once, not parsed.
        guard !pending.isEmpty else {
            fail(context: context, with: .unsolicitedBytes)
            return
        }
        parser.append(unwrapInboundIn(data))
        while true {
            let value: RESPValue
            do {
                guard let next = try parser.next() else { return }
                value = next
            } catch {
                fail(context: context, with: .protocolError(error))
                return
            }
            guard let head = pending.popFirst() else {
                fail(context: context, with: .unexpectedReply(value))
                return
            }
            head.timer?.cancel()
            head.promise.succeed(value)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context: context, with: .connectionClosed)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(.connectionClosed)
    }

    /// Closes first, then fails the pending commands: their callers may retry at once, and the pool must already
    /// see this connection as closed (`isActive` false) and open another.
    private func fail(context: ChannelHandlerContext, with error: RedisClientError) {
        let waiting = pending
        pending.removeAll()
        failed = true
        context.close(promise: nil)
        for entry in waiting {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }

    private func failAll(_ error: RedisClientError) {
        failed = true
        while let entry = pending.popFirst() {
            entry.timer?.cancel()
            entry.promise.fail(error)
        }
    }
}
