import Foundation

/// A blocking TCP client on 127.0.0.1 for what an HTTP client library will not do: pipeline raw requests, or
/// reset the connection at a chosen moment.
enum RawClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private static func connected(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "connect failed")
        }
        // Reads never block longer than this.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw Failure(description: "send failed") }
            sent += count
        }
    }

    /// Opens a connection and sends `request`; ``reset(_:)`` closes it.
    static func send(port: Int, request: [UInt8]) throws -> Int32 {
        let fd = try connected(port: port)
        try sendAll(fd, request)
        return fd
    }

    /// Closes with a reset (SO_LINGER 0), whatever was not read.
    static func reset(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
    }

    /// Sends `request` and reads until the server closes the connection.
    static func exchange(port: Int, request: [UInt8]) throws -> [UInt8] {
        let fd = try connected(port: port)
        defer { close(fd) }
        try sendAll(fd, request)
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            reply.append(contentsOf: buffer[..<count])
        }
        return reply
    }
}
