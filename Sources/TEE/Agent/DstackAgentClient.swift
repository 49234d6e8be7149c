import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SigningCrypto

/// HTTP/1.1 client for the dstack guest agent's v0 surface.
///
/// Sends `POST /<Method>` with a JSON body, `Content-Type: application/json`, a `Content-Length` and
/// `Host: localhost`; each call has its own deadline (10 s, 30 s for `GetQuote` by default).
package struct DstackAgentClient: DstackAgent {
    /// Where the agent listens.
    package let endpoint: DstackEndpoint
    /// Deadline for `Version`, `GetKey` and `Info`.
    package var callTimeout: Duration
    /// Deadline for `GetQuote` (the agent talks to the quoting enclave).
    package var quoteTimeout: Duration

    private let httpClient: HTTPClient
    private let logger: Logger

    /// Largest answer accepted; an Info with a full event log is a few tens of KiB.
    private static let maxResponseBytes = 4 << 20

    /// A process-lifetime client for the agent, never shut down (like `HTTPClient.shared`).
    ///
    /// Unlike the shared client it does not retry failed connection attempts until the deadline: a
    /// local agent that refuses connections is down, and start-up should say so at once.
    package static let defaultHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// Creates a client for a known endpoint.
    /// - Parameter httpClient: the client to send with; ``defaultHTTPClient`` unless a test injects one.
    package init(
        endpoint: DstackEndpoint,
        httpClient: HTTPClient = DstackAgentClient.defaultHTTPClient,
        callTimeout: Duration = .seconds(10),
        quoteTimeout: Duration = .seconds(30),
        logger: Logger
    ) {
        self.endpoint = endpoint
        self.httpClient = httpClient
        self.callTimeout = callTimeout
        self.quoteTimeout = quoteTimeout
        self.logger = logger
    }

    /// Creates a client, resolving the endpoint as the dstack SDKs do.
    /// - Parameter explicitEndpoint: a configured value such as `--dstack-endpoint`; wins over the environment.
    /// - Throws: `DstackAgentError.noEndpoint` when no agent socket can be found.
    package init(
        explicitEndpoint: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        httpClient: HTTPClient = DstackAgentClient.defaultHTTPClient,
        logger: Logger
    ) throws(DstackAgentError) {
        let endpoint = try DstackEndpoint.resolve(explicit: explicitEndpoint, environment: environment)
        self.init(endpoint: endpoint, httpClient: httpClient, logger: logger)
    }

    // MARK: DstackAgent

    package func version() async throws -> DstackVersion? {
        let body: [UInt8]
        do {
            body = try await call("Version", body: Array("{}".utf8), timeout: callTimeout)
        } catch let error as DstackAgentError where error.isNotFound {
            // Agents before 0.5.7 have no Version method.
            return nil
        }
        let answer = try DstackWireFormat.decode(DstackWireFormat.VersionResponse.self, from: body, method: "Version")
        return DstackVersion(version: answer.version, rev: answer.rev ?? "")
    }

    package func getKey(path: String, purpose: String, algorithm: String) async throws -> DstackKey {
        let request = DstackWireFormat.GetKeyRequest(path: path, purpose: purpose, algorithm: algorithm)
        let body = try await call("GetKey", body: try Self.encode(request), timeout: callTimeout)
        let answer = try DstackWireFormat.decode(DstackWireFormat.GetKeyResponse.self, from: body, method: "GetKey")
        let key = try DstackWireFormat.hex(answer.key, field: "key", method: "GetKey")
        guard key.count == 32 else {
            throw DstackAgentError.malformed("GetKey key has \(key.count) bytes, expected 32")
        }
        var chain: [[UInt8]] = []
        for (index, link) in (answer.signatureChain ?? []).enumerated() {
            chain.append(try DstackWireFormat.hex(link, field: "signature_chain[\(index)]", method: "GetKey"))
        }
        return DstackKey(key: key, signatureChain: chain)
    }

    package func getQuote(reportData: [UInt8]) async throws -> DstackQuote {
        // The agent rejects more than 64 bytes too; failing here gives a clearer message.
        guard reportData.count <= 64 else {
            throw DstackAgentError.malformed("report_data has \(reportData.count) bytes, at most 64 allowed")
        }
        let request = DstackWireFormat.GetQuoteRequest(reportData: Self.hexString(reportData))
        let body = try await call("GetQuote", body: try Self.encode(request), timeout: quoteTimeout)
        let answer = try DstackWireFormat.decode(DstackWireFormat.GetQuoteResponse.self, from: body, method: "GetQuote")
        let quote = try DstackWireFormat.hex(answer.quote, field: "quote", method: "GetQuote")
        guard !quote.isEmpty else {
            throw DstackAgentError.malformed("GetQuote returned an empty quote (is this machine a TDX guest?)")
        }
        guard let eventLog = answer.eventLog else {
            throw DstackAgentError.malformed("GetQuote answer is not the expected JSON (missing event_log)")
        }
        let echoed = try answer.reportData.map { text throws(DstackAgentError) in
            try DstackWireFormat.hex(text, field: "report_data", method: "GetQuote")
        }
        return DstackQuote(
            quoteHex: answer.quote,
            quote: quote,
            eventLog: eventLog,
            reportData: echoed,
            vmConfig: answer.vmConfig
        )
    }

    package func info() async throws -> DstackInfo {
        let body = try await call("Info", body: Array("{}".utf8), timeout: callTimeout)
        let answer = try DstackWireFormat.decode(DstackWireFormat.InfoResponse.self, from: body, method: "Info")
        var appCompose: String?
        if let tcbText = answer.tcbInfo, !tcbText.isEmpty,
            let tcb = try? JSONDecoder().decode(DstackWireFormat.TCBInfo.self, from: Data(tcbText.utf8))
        {
            appCompose = tcb.appCompose
        }
        return DstackInfo(
            raw: body,
            appID: answer.appID.map(Self.normalizedHex),
            instanceID: answer.instanceID.map(Self.normalizedHex),
            composeHash: answer.composeHash.map(Self.normalizedHex),
            appCompose: appCompose,
            reportObjectJSON: try DstackWireFormat.reportObject(fromInfo: body)
        )
    }

    // MARK: Transport

    /// Sends one call and returns the 200 body; maps every failure to a `DstackAgentError`.
    private func call(_ method: String, body: [UInt8], timeout: Duration) async throws -> [UInt8] {
        var request = HTTPClientRequest(url: try url(for: method))
        request.method = .POST
        request.headers.add(name: "Host", value: "localhost")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Content-Length", value: String(body.count))
        request.headers.add(name: "Connection", value: "close")
        request.body = .bytes(ByteBuffer(bytes: body))

        logger.debug("dstack agent call", metadata: ["dstack.method": "\(method)", "dstack.endpoint": "\(endpoint)"])
        let (status, answer) = try await Self.withDeadline(timeout, method: method) { [httpClient, logger, request] in
            do {
                let response = try await httpClient.execute(
                    request, timeout: TimeAmount(timeout), logger: logger)
                let collected = try await response.body.collect(upTo: Self.maxResponseBytes)
                return (response.status, Array(buffer: collected))
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                throw DstackAgentError.timeout("\(method) took longer than \(timeout)")
            } catch let error as HTTPClientError where error == .connectTimeout {
                throw DstackAgentError.timeout("connecting for \(method) took longer than \(timeout)")
            } catch is NIOTooManyBytesError {
                throw DstackAgentError.malformed("\(method) answer is larger than \(Self.maxResponseBytes) bytes")
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as DstackAgentError {
                throw error
            } catch {
                throw DstackAgentError.connect("\(method) at \(endpoint): \(Self.describe(error))")
            }
        }
        guard status == .ok else {
            throw DstackAgentError.status(Int(status.code), Self.errorMessage(method: method, body: answer))
        }
        return answer
    }

    private func url(for method: String) throws(DstackAgentError) -> String {
        switch endpoint {
        case .http(let baseURL):
            return "\(baseURL)/\(method)"
        case .unixSocket(let path):
            guard let url = URL(httpURLWithSocketPath: path, uri: "/\(method)") else {
                throw .noEndpoint("socket path \(path) cannot be used in a URL")
            }
            return url.absoluteString
        }
    }

    /// Runs `operation`, throwing `DstackAgentError.timeout` if it has not finished after `timeout`.
    ///
    /// AsyncHTTPClient's own deadline covers the response head only; this bounds the body as well.
    private static func withDeadline<T: Sendable>(
        _ timeout: Duration,
        method: String,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw DstackAgentError.timeout("\(method) took longer than \(timeout)")
            }
            return value
        }
    }

    /// The agent's `{"error": ...}` message, or a note that the body was not JSON (nothing mounted there).
    private static func errorMessage(method: String, body: [UInt8]) -> String {
        if let decoded = try? JSONDecoder().decode(DstackWireFormat.ErrorResponse.self, from: Data(body)) {
            return decoded.error
        }
        return "\(method): no JSON error body (\(body.count) bytes; is this a dstack agent?)"
    }

    /// A short description of a transport error (`connection refused`, ...).
    private static func describe(_ error: any Error) -> String {
        if let io = error as? IOError {
            return io.description
        }
        return String(describing: error)
    }

    private static func encode(_ value: some Encodable) throws(DstackAgentError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw .malformed("cannot encode the request")
        }
    }

    private static func hexString(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }

    /// Lowercase without `0x`, the form used everywhere else.
    private static func normalizedHex(_ text: String) -> String {
        let lowered = text.lowercased()
        return lowered.hasPrefix("0x") ? String(lowered.dropFirst(2)) : lowered
    }
}
