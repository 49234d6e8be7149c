import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOTLS

/// The HTTP side of `verify exchange` / `verify chat`: one request per connection, over TLS for `https`
/// URLs, keeping the certificate the server presented on that very connection.
///
/// The TLS binding of an attestation report (docs/API.md, `report_data`) is only worth something when it
/// is compared with the certificate of the connection that carried the exchange; AsyncHTTPClient does
/// not show that certificate, so this client speaks HTTP/1.1 on NIO directly.
struct ProxyHTTPClient: Sendable {
    /// Why a request gave no answer (connection, TLS, timeout, size).
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One answer, with the DER of the server's leaf certificate when the connection was TLS.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: [UInt8]
        var peerCertificateDER: [UInt8]?
    }

    let host: String
    let port: Int
    /// Path prefix of the base URL (without a trailing `/`), e.g. `""` or `/proxy`.
    let basePath: String
    /// nil for plain `http`.
    let tls: NIOSSLContext?
    /// With `--cacert`: the same trust without the hostname check, and the DER of each given certificate.
    /// A certificate given itself (a self-signed proxy certificate, often without a subjectAltName for the
    /// address used) is a pin: the connection is accepted when the server presents exactly that certificate.
    let pinning: (context: NIOSSLContext, certificates: [[UInt8]])?
    let timeout: TimeAmount
    let maxBody: Int

    /// - Parameters:
    ///   - url: `http://host:port[/prefix]` or `https://…`; a trailing `/v1` is dropped.
    ///   - caCertificatePath: PEM file of the certificates to trust instead of the system's (a self-signed
    ///     proxy certificate, or the CA that issued it); only for `https`.
    init(url: String, caCertificatePath: String?, timeout: TimeAmount, maxBody: Int = 64 << 20) throws(Failure) {
        var rest = Substring(url)
        let secure: Bool
        if rest.lowercased().hasPrefix("https://") {
            secure = true
            rest = rest.dropFirst(8)
        } else if rest.lowercased().hasPrefix("http://") {
            secure = false
            rest = rest.dropFirst(7)
        } else {
            throw Failure(description: "--url must start with http:// or https:// (got \(url))")
        }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix("/v1") { path.removeLast(3) }
        let parsedHost: Substring
        var parsedPort: Int? = nil
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            parsedHost = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { parsedPort = Int(after.dropFirst()) ?? -1 }
        } else if let colon = authority.lastIndex(of: ":") {
            parsedHost = authority[..<colon]
            parsedPort = Int(authority[authority.index(after: colon)...]) ?? -1
        } else {
            parsedHost = authority
        }
        guard !parsedHost.isEmpty, (parsedPort ?? 1) > 0, (parsedPort ?? 1) < 65536 else {
            throw Failure(description: "--url has no valid host and port (got \(url))")
        }
        host = String(parsedHost)
        port = parsedPort ?? (secure ? 443 : 80)
        basePath = path
        self.timeout = timeout
        self.maxBody = maxBody
        if caCertificatePath != nil && !secure {
            throw Failure(description: "--cacert is for https:// URLs; \(url) is plain http")
        }
        guard secure else {
            tls = nil
            pinning = nil
            return
        }
        var configuration = TLSConfiguration.makeClientConfiguration()
        var given: [NIOSSLCertificate] = []
        if let caCertificatePath {
            do {
                given = try NIOSSLCertificate.fromPEMFile(caCertificatePath)
            } catch {
                throw Failure(description: "--cacert \(caCertificatePath): no PEM certificate could be read (\(error))")
            }
            guard !given.isEmpty else { throw Failure(description: "--cacert \(caCertificatePath) holds no certificate") }
            configuration.trustRoots = .certificates(given)
        }
        do {
            tls = try NIOSSLContext(configuration: configuration)
            if given.isEmpty {
                pinning = nil
            } else {
                var relaxed = configuration
                relaxed.certificateVerification = .noHostnameVerification
                pinning = (try NIOSSLContext(configuration: relaxed), try given.map { try $0.toDERBytes() })
            }
        } catch {
            throw Failure(description: "TLS setup failed: \(error)")
        }
    }

    /// Whether requests go over TLS.
    var isTLS: Bool { tls != nil }

    /// Sends one request on a new connection and reads the whole answer.
    func send(
        _ method: HTTPMethod, _ path: String, headers extra: [(String, String)] = [], body: [UInt8]? = nil
    ) async throws(Failure) -> Response {
        let what = "\(method) \(path.split(separator: "?", maxSplits: 1).first ?? "")"
        do {
            if let pinning {
                do {
                    return try await exchange(method, path, headers: extra, body: body, context: pinning.context, pinned: pinning.certificates)
                } catch is NotPinned {
                    // Issued by a given CA rather than given itself: the full check, hostname included.
                }
            }
            return try await exchange(method, path, headers: extra, body: body, context: tls, pinned: nil)
        } catch let failure as Failure {
            throw failure
        } catch let error as NIOSSLExtraError where error == .failedToValidateHostname {
            throw Failure(
                description: "\(what) failed: the server's TLS certificate does not name \(host) in its subjectAltName; "
                    + "give that very certificate with --cacert PATH to pin it")
        } catch {
            throw Failure(description: "\(what) failed: \(Self.explain(error, tls: isTLS))")
        }
    }

    /// The presented certificate is not one of the `--cacert` certificates.
    private struct NotPinned: Error {}

    /// - Parameter pinned: when set, the request is sent only if the server presents one of these certificates
    ///   (DER); otherwise `NotPinned` is thrown before a byte of the request leaves.
    private func exchange(
        _ method: HTTPMethod, _ path: String, headers extra: [(String, String)], body: [UInt8]?, context: NIOSSLContext?,
        pinned: [[UInt8]]?
    ) async throws -> Response {
        // SNI carries names only; an IP literal is checked against the certificate's IP SANs instead.
        let serverName = Self.isIPLiteral(host) ? nil : host
        let group = MultiThreadedEventLoopGroup.singleton
        let certificatePromise = group.next().makePromise(of: [UInt8]?.self)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: serverName))
                        try channel.pipeline.syncOperations.addHandler(PeerCertificateRecorder(promise: certificatePromise))
                    } else {
                        certificatePromise.succeed(nil)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        // The handshake first: what the server presented decides whether the request is sent at all.
        let certificate: [UInt8]?
        do {
            certificate = try await certificatePromise.futureResult.get()
        } catch {
            try? await channel.channel.close()
            throw error
        }
        if let pinned, !pinned.contains(certificate ?? []) {
            try? await channel.channel.close()
            throw NotPinned()
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: basePath + path)
        head.headers.add(name: "Host", value: Self.isIPLiteral(host) && host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
        let maxBody = self.maxBody
        let tlsInUse = context != nil
        return try await channel.executeThenClose { inbound, outbound in
            // One flush: a server may answer a bodyless request at its head and close before a later write.
            var parts: [HTTPClientRequestPart] = [.head(head)]
            if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            parts.append(.end(nil))
            try await outbound.write(contentsOf: parts)
            var responseHead: HTTPResponseHead?
            var collected: [UInt8] = []
            var ended = false
            for try await part in inbound {
                switch part {
                case .head(let received):
                    responseHead = received
                case .body(let buffer):
                    guard collected.count + buffer.readableBytes <= maxBody else {
                        throw Failure(description: "\(method) \(path): the answer is larger than \(maxBody) bytes")
                    }
                    collected += buffer.readableBytesView
                case .end:
                    ended = true
                }
                if ended { break }
            }
            guard let responseHead, ended else {
                throw Failure(description: "\(method) \(path): the connection closed before the whole answer arrived (or the \(timeout) limit passed)")
            }
            if tlsInUse, certificate == nil {
                throw Failure(description: "\(method) \(path): the TLS connection presented no certificate")
            }
            return Response(status: responseHead.status, headers: responseHead.headers, body: collected, peerCertificateDER: certificate)
        }
    }

    private static func isIPLiteral(_ host: String) -> Bool {
        host.contains(":") || (host.split(separator: ".").count == 4 && host.allSatisfy { $0 == "." || $0.isNumber })
    }

    /// A TLS failure says what to do about it; anything else is described as NIO describes it.
    private static func explain(_ error: any Error, tls: Bool) -> String {
        let text = "\(error)"
        if tls, text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate") {
            return "the server's TLS certificate is not trusted (\(text)); pass the proxy's certificate, or the CA "
                + "that issued it, with --cacert PATH"
        }
        if tls, error is NIOSSLError || error is BoringSSLError {
            return "TLS handshake failed (\(text))"
        }
        return text
    }
}

/// Keeps the DER of the server's leaf certificate as soon as the TLS handshake completes.
private final class PeerCertificateRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let promise: EventLoopPromise<[UInt8]?>
    private var done = false

    init(promise: EventLoopPromise<[UInt8]?>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent, !done {
            done = true
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            promise.succeed(try? handler?.peerCertificate?.toDERBytes())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A failed handshake (untrusted certificate, wrong hostname) says why here, before the close.
        if !done {
            done = true
            promise.fail(error)
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(ProxyHTTPClient.Failure(description: "the connection closed before the TLS handshake completed"))
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(ProxyHTTPClient.Failure(description: "the TLS handshake did not complete"))
        }
    }
}
