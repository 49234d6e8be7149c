#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Synchronization

/// Counts open client connections against `VLLM_PROXY_MAX_CONNECTIONS`.
///
/// Past the limit a connection is answered with a 503 envelope and closed at once, rather than left
/// to wait in the accept queue or to fail when the process runs out of file descriptors: a client
/// learns to retry instead of hanging.
final class ConnectionLimiter: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    /// The limit asked for, when the process's open-file limit could not honour it.
    let requested: Int

    /// - Parameter limit: `VLLM_PROXY_MAX_CONNECTIONS`; lowered to half the open-file limit (less a
    ///   reserve), since each request in flight also holds an upstream connection and past the file
    ///   limit new clients would hang unanswered instead of getting a 503.
    init(limit: Int) {
        self.requested = limit
        self.limit = min(limit, Self.fileLimitAllowance())
    }

    /// Half of `RLIMIT_NOFILE`'s soft limit, less 32 descriptors for listeners, logs and the agent.
    static func fileLimitAllowance() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return Int.max }
        return max(1, (Int(clamping: limit.rlim_cur) - 32) / 2)
    }

    /// The number of client connections open now.
    var count: Int { open.load(ordering: .relaxed) }

    /// Takes a slot for `channel` and frees it when the channel closes.
    /// - Returns: false, and no slot taken, when every slot is in use.
    func admit(_ channel: any Channel) -> Bool {
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= limit else {
            open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        channel.closeFuture.whenComplete { [self] _ in open.wrappingSubtract(1, ordering: .relaxed) }
        return true
    }

    /// The whole answer written to a connection over the limit, before closing it.
    static func refusal() -> ByteBuffer {
        let body = OpenAIError.tooManyConnections.envelope()
        var buffer = ByteBuffer()
        buffer.writeString(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.readableBytes)\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
        )
        var copy = body
        buffer.writeBuffer(&copy)
        return buffer
    }
}
