/// A Redis command that did not get a usable answer. Descriptions never contain passwords, keys or values.
package struct RedisClientError: Error, Hashable, CustomStringConvertible {
    private enum Code: Hashable {
        case connect(String)
        case unavailable(String)
        case timeout
        case connectionClosed
        case protocolError(RESPParseError)
        case server(String)
        case authentication(String)
        case unexpectedReply(String)
        case poolClosed
    }

    private let code: Code

    private init(_ code: Code) { self.code = code }

    /// A TCP connection to the server could not be opened.
    static func connect(_ detail: String) -> Self { .init(.connect(detail)) }
    /// The pool is waiting before its next connect attempt after a failure, and has no open connection.
    static func unavailable(_ detail: String) -> Self { .init(.unavailable(detail)) }
    /// No reply within the command's timeout, or within that of a command ahead of it on the same connection; the
    /// connection was closed, as later replies on it could no longer be matched to their commands.
    static let timeout = Self(.timeout)
    /// The connection closed (by the server, the network, an earlier timeout or parse error) before the reply came.
    package static let connectionClosed = Self(.connectionClosed)
    /// The server's bytes are not RESP2 within the parser's limits.
    static func protocolError(_ error: RESPParseError) -> Self { .init(.protocolError(error)) }
    /// The server answered with an error reply (`-ERR …`), given verbatim.
    static func server(_ message: String) -> Self { .init(.server(message)) }
    /// AUTH or SELECT on connect was refused; the server's error reply, verbatim.
    static func authentication(_ message: String) -> Self { .init(.authentication(message)) }
    /// A reply of a type the command never returns.
    static func unexpectedReply(_ reply: RESPValue) -> Self { .init(.unexpectedReply(reply.description)) }
    /// Bytes arrived while no command was waiting for a reply.
    static let unsolicitedBytes = Self(.unexpectedReply("bytes with no command waiting"))
    /// The pool was shut down.
    static let poolClosed = Self(.poolClosed)

    /// True when no usable reply came (connect failure, backoff, timeout, closed connection, garbage, pool shut
    /// down): whether the server ran the command is unknown. False when the server answered, with an error reply or
    /// a reply of the wrong type.
    package var isConnectionFailure: Bool {
        switch code {
        case .connect, .unavailable, .timeout, .connectionClosed, .protocolError, .poolClosed: return true
        case .server, .authentication, .unexpectedReply: return false
        }
    }

    /// True for a command timeout.
    package var isTimeout: Bool { code == .timeout }

    /// True when AUTH or SELECT on connect was refused.
    package var isAuthentication: Bool {
        if case .authentication = code { return true }
        return false
    }

    /// True when the server's bytes could not be parsed.
    package var isProtocolError: Bool {
        if case .protocolError = code { return true }
        return false
    }

    /// The server's error reply for `.server` and `.authentication`, nil otherwise.
    package var serverMessage: String? {
        switch code {
        case .server(let message), .authentication(let message): return message
        default: return nil
        }
    }

    package var description: String {
        switch code {
        case .connect(let detail): return "cannot connect to Redis: \(detail)"
        case .unavailable(let detail): return "Redis unavailable: \(detail)"
        case .timeout: return "Redis command timed out"
        case .connectionClosed: return "Redis connection closed before the reply"
        case .protocolError(let error): return "Redis protocol error: \(error)"
        case .server(let message): return "Redis error: \(message)"
        case .authentication(let message): return "Redis refused the connection setup: \(message)"
        case .unexpectedReply(let reply): return "unexpected Redis reply: \(reply)"
        case .poolClosed: return "Redis connection pool is shut down"
        }
    }
}
