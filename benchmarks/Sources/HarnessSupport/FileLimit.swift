import Foundation

/// The open-file limit: 10k streams need about 20k sockets in the proxy alone.
package enum FileLimit {
    /// Raises the soft limit to the hard limit (inherited by the servers started afterwards); returns it.
    package static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(min(limit.rlim_cur, 1 << 20))
    }
}
