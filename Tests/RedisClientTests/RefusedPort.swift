#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback port that refuses every connection for the life of the test process.
///
/// A port bound and released at once ("free" a moment ago) can be handed by the kernel to the next
/// test that binds port 0, which then answers where a refusal was expected. This socket is bound
/// and never listens: connects to it are refused (RST), and nothing else can bind the port while
/// the process runs.
enum RefusedPort {
    static let port: Int = {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        precondition(bound == 0, "bind() failed")
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        // The descriptor is deliberately never closed.
        return Int(UInt16(bigEndian: address.sin_port))
    }()
}
