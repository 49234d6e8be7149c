import Foundation

/// A TCP client socket to 127.0.0.1 driven byte by byte, with deadlines on every call.
///
/// The chaos clients need what HTTP clients hide: a small receive buffer (so a slow reader really holds
/// the server's writes back), reading at a chosen pace, taking whatever already arrived before leaving,
/// and leaving with a reset rather than a FIN. The descriptor is non-blocking; every wait is a `poll`.
/// One thread uses a socket at a time.
final class RawSocket {
    /// How a read ended.
    enum Received {
        case bytes([UInt8])
        /// The server closed its side (FIN).
        case eof
        /// The connection was reset or failed (errno).
        case failed(Int32)
        case timedOut
    }

    /// How a write ended.
    enum Sent: Equatable {
        case done
        /// The server stopped reading: `sent` bytes went out before the deadline.
        case timedOut(sent: Int)
        /// The connection was reset or closed (errno) after `sent` bytes.
        case failed(sent: Int, errno: Int32)
    }

    private(set) var descriptor: Int32
    let port: Int

    /// Connects to 127.0.0.1:`port`. `receiveBuffer` (bytes) is set before connecting, so the window the
    /// server sees is small from the first byte.
    init(port: Int, receiveBuffer: Int? = nil, timeout: Duration = .seconds(5)) throws {
        self.port = port
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ChaosError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let receiveBuffer {
            var size = Int32(receiveBuffer)
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if result != 0 {
            let error = errno
            guard error == EINPROGRESS else {
                Glibc.close(descriptor)
                descriptor = -1
                throw ChaosError("connect: errno \(error)")
            }
            guard Self.wait(descriptor, for: Int16(POLLOUT), timeout: timeout) else {
                Glibc.close(descriptor)
                descriptor = -1
                throw ChaosError("connect: no answer within \(timeout)")
            }
            var failure: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &failure, &length)
            if failure != 0 {
                Glibc.close(descriptor)
                descriptor = -1
                throw ChaosError("connect: errno \(failure)")
            }
        }
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    var isOpen: Bool { descriptor >= 0 }

    /// Writes every byte of `bytes`, waiting at most `timeout` for the server to take them.
    @discardableResult
    func send(_ bytes: [UInt8], timeout: Duration = .seconds(10)) -> Sent {
        guard descriptor >= 0 else { return .failed(sent: 0, errno: EBADF) }
        let deadline = ContinuousClock.now + timeout
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                continue
            }
            let error = errno
            guard written < 0, error == EAGAIN || error == EWOULDBLOCK || error == EINTR else {
                return .failed(sent: offset, errno: written == 0 ? EPIPE : error)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, Self.wait(descriptor, for: Int16(POLLOUT), timeout: left) else {
                return .timedOut(sent: offset)
            }
        }
        return .done
    }

    /// Reads what is there (at most `limit` bytes), waiting at most `timeout` for something to arrive.
    func receive(limit: Int = 64 << 10, timeout: Duration) -> Received {
        guard descriptor >= 0 else { return .failed(EBADF) }
        var buffer = [UInt8](repeating: 0, count: limit)
        let deadline = ContinuousClock.now + timeout
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.recv(descriptor, $0.baseAddress, limit, 0) }
            if count > 0 { return .bytes(Array(buffer[0..<count])) }
            if count == 0 { return .eof }
            let error = errno
            guard error == EAGAIN || error == EWOULDBLOCK || error == EINTR else { return .failed(error) }
            let left = deadline - ContinuousClock.now
            guard left > .zero, Self.wait(descriptor, for: Int16(POLLIN), timeout: left) else { return .timedOut }
        }
    }

    /// Everything that has already arrived, without waiting; `ended` when the server closed or reset.
    func takeAvailable() -> (bytes: [UInt8], ended: Bool) {
        var collected: [UInt8] = []
        while true {
            switch receive(timeout: .zero) {
            case .bytes(let bytes): collected += bytes
            case .eof, .failed: return (collected, true)
            case .timedOut: return (collected, false)
            }
        }
    }

    /// Whether the server has closed or reset the connection (checked without reading data away).
    func peerClosed(within timeout: Duration) -> Bool {
        guard descriptor >= 0 else { return true }
        guard Self.wait(descriptor, for: Int16(POLLIN), timeout: timeout) else { return false }
        var byte: UInt8 = 0
        let count = recv(descriptor, &byte, 1, Int32(MSG_PEEK))
        return count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Closes the socket; `reset` sends an RST (SO_LINGER 0) so later writes by the server fail at once.
    func close(reset: Bool = false) {
        guard descriptor >= 0 else { return }
        if reset {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        Glibc.close(descriptor)
        descriptor = -1
    }

    /// Leaves as a real client does: takes what has already arrived, then closes. The kernel then sends a
    /// FIN when nothing is left unread, and a reset when something is (or when bytes arrive after the
    /// close), which is what tells the server its last bytes were not read.
    ///
    /// The last check before the close asks the kernel for unread bytes (FIONREAD), so the gap in which a
    /// byte can land unseen is one system call. A byte the server wrote that never reached this socket
    /// is not received, and a server that publishes a signature for it has signed an answer it did not
    /// deliver.
    func drainAndLeave() -> (bytes: [UInt8], ended: Bool) {
        var collected: [UInt8] = []
        var ended = false
        while true {
            let (bytes, closed) = takeAvailable()
            collected += bytes
            if closed {
                ended = true
                break
            }
            var unread: Int32 = 0
            guard ioctl(descriptor, UInt(FIONREAD), &unread) == 0, unread > 0 else { break }
        }
        close()
        return (collected, ended)
    }

    /// Half-closes the sending side (FIN), keeping the socket open for reading.
    func shutdownWrite() {
        guard descriptor >= 0 else { return }
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Waits until `descriptor` is ready for `events` (or has an error or hang-up), at most `timeout`.
    static func wait(_ descriptor: Int32, for events: Int16, timeout: Duration) -> Bool {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        let milliseconds = Int32(clamping: max(0, timeout.milliseconds))
        while true {
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { return true }
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded up so a short positive wait never becomes zero.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000)
        guard !overflow else { return .max }
        return scaled + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }

    /// Seconds as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Why the chaos tool stopped (or a client call failed).
struct ChaosError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
