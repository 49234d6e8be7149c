import AsyncHTTPClient
import Crypto
import DstackSimulator
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SigningCrypto
import TestFixtures
import Testing

@testable import TEE

#if canImport(Glibc)
import Glibc
#endif

/// Shared helpers for the dstack client, key loader and simulator tests.
enum DstackTestSupport {
    /// A logger that discards everything (tests must not print key material or noise).
    static let logger = Logger(label: "dstack-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// `Fixtures/dstack`, the simulator's data files.
    static func fixturesDirectory() -> String {
        Fixtures.url("dstack").path
    }

    /// The bytes of `Fixtures/dstack/<name>`.
    static func fixture(_ name: String) throws -> [UInt8] {
        try Fixtures.bytes("dstack/\(name)")
    }

    /// A fresh short temporary directory (unix socket paths are limited to 107 bytes).
    static func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
        var template = Array("/tmp/dstack-test.XXXXXX".utf8CString)
        let path = try template.withUnsafeMutableBufferPointer { buffer -> String in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else {
                throw DstackSimulatorError.fixture("/tmp", "mkdtemp failed")
            }
            return String(cString: result)
        }
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// Runs the in-process simulator on a socket in a temp dir and hands `body` a client for it.
    static func withSimulator<T: Sendable>(
        callTimeout: Duration = .seconds(10),
        configure: (inout DstackSimulatorConfiguration) -> Void = { _ in },
        _ body: @Sendable (DstackAgentClient, DstackSimulatorConfiguration) async throws -> T
    ) async throws -> T {
        let fixtures = fixturesDirectory()
        return try await withTemporaryDirectory { directory in
            var configuration = DstackSimulatorConfiguration(
                socketPath: directory + "/dstack.sock", fixturesDirectory: fixtures)
            configure(&configuration)
            let frozen = configuration
            return try await withDstackSimulator(configuration: frozen, logger: logger) { socketPath in
                let client = DstackAgentClient(
                    endpoint: .unixSocket(path: socketPath), callTimeout: callTimeout, quoteTimeout: callTimeout,
                    logger: logger)
                return try await body(client, frozen)
            }
        }
    }

    /// A unix socket at `path` that accepts connections into its backlog but never reads or answers.
    /// - Parameter listening: false leaves the socket bound but not listening (connections are refused).
    static func withSilentSocket<T>(at path: String, listening: Bool = true, _ body: () async throws -> T) async throws -> T {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        #expect(pathBytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in pathBytes.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        if listening {
            #expect(listen(fd, 8) == 0)
        }
        return try await body()
    }

    /// Expected RTMRs by replaying a JSON event log (SHA-384 extend from zero; independent of TDX).
    static func replay(eventLog: String) throws -> [[UInt8]] {
        let events = try #require(try JSONSerialization.jsonObject(with: Data(eventLog.utf8)) as? [[String: Any]])
        var registers = [[UInt8]](repeating: [UInt8](repeating: 0, count: 48), count: 4)
        for event in events {
            let imr = try #require(event["imr"] as? Int)
            let type = try #require(event["event_type"] as? Int)
            let digestHex = try #require(event["digest"] as? String)
            let digest: [UInt8]
            if type == 0x0800_0001 {
                let name = try #require(event["event"] as? String)
                let payload = try hex(try #require(event["event_payload"] as? String))
                digest = sha384([0x01, 0x00, 0x00, 0x08] + Array(":\(name):".utf8) + payload)
                if !digestHex.isEmpty {
                    #expect(try hex(digestHex) == digest, "supplied digest of \(name) must equal the recomputed one")
                }
            } else {
                digest = try hex(digestHex)
            }
            registers[imr] = sha384(registers[imr] + digest)
        }
        return registers
    }

    static func sha384(_ bytes: [UInt8]) -> [UInt8] {
        Array(Crypto.SHA384.hash(data: bytes))
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(Crypto.SHA256.hash(data: bytes))
    }

    static func hex(_ text: String) throws -> [UInt8] {
        try SigningCrypto.Hex.decode(text)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        SigningCrypto.Hex.encode(bytes)
    }
}




extension DstackTestSupport {
    /// Sends one raw request to a unix socket (for answers the typed client would reject first).
    static func rawRequest(
        socketPath: String,
        path: String,
        method: HTTPMethod = .POST,
        body: String,
        contentType: String? = "application/json"
    ) async throws -> (status: Int, contentType: String?, body: String) {
        let url = try #require(URL(httpURLWithSocketPath: socketPath, uri: path))
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        if let contentType {
            request.headers.add(name: "Content-Type", value: contentType)
        }
        request.headers.add(name: "Connection", value: "close")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let collected = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "content-type"), String(buffer: collected))
    }
}
