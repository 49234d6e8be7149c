import Foundation

/// A private folder under the system's temp directory for configs and logs.
package enum TemporaryDirectory {
    package static func make() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/signing-proxy-bench.XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let made else { throw HarnessError.system("mkdtemp") }
        return made
    }
}
