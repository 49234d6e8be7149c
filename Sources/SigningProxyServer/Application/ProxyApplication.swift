import E2EE
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import SigningCore

/// The signing proxy as a library: routes, shared state and the upstream client, ready to run.
package struct ProxyApplication: Sendable {
    package let configuration: ProxyConfiguration
    package let keys: SigningKeys
    package let store: SignatureStore<SignatureRecord>
    package let metrics: ProxyMetrics
    /// Signs and stores exchanges and serves their signatures; shared by every completion path.
    package let notary: ExchangeNotary
    package let upstream: UpstreamClient
    package let attestation: any AttestationReporting
    /// Open client connections, shared by every connection's setup.
    let connections: ConnectionLimiter
    /// Records shared with the other replicas through Redis (docs/API.md, "Shared receipt store"); nil without one.
    package let sharedStore: SharedReceiptStore?
    /// Where E2EE nonces are claimed: Redis and memory with a shared store, memory alone without.
    package let replayStore: any E2EEReplayStore
    /// The keys encrypted requests are opened with; nil only if they cannot be derived (E2EE is then refused).
    let e2ee: E2EEKeyring?

    package init(configuration: ProxyConfiguration, keys: SigningKeys, attestation: any AttestationReporting) {
        self.configuration = configuration
        self.keys = keys
        self.attestation = attestation
        self.store = SignatureStore(
            capacity: configuration.signatureCacheCapacity,
            ttl: configuration.chatCacheExpiration
        )
        let metrics = ProxyMetrics(signingMode: configuration.signingMode)
        self.metrics = metrics
        let signer = ExchangeSigner(keys: keys, format: configuration.signingTextFormat, modelName: configuration.modelName)
        let sharedStore = configuration.sharedStore.map {
            SharedReceiptStore(
                settings: $0, ttl: configuration.chatCacheExpiration, signer: signer, metrics: metrics,
                logger: Logger(label: "signing-proxy.redis"))
        }
        self.sharedStore = sharedStore
        self.replayStore = sharedStore.map { RedisReplayStore(store: $0, metrics: metrics) } ?? InMemoryReplayCache()
        self.notary = ExchangeNotary(signer: signer, store: store, metrics: metrics, mode: configuration.signingMode, shared: sharedStore)
        self.upstream = UpstreamClient(configuration: configuration)
        self.connections = ConnectionLimiter(limit: configuration.maxConnections)
        self.e2ee = try? E2EEKeyring(keys: keys, window: configuration.e2eeReplayWindow)
    }

    /// The router with every route of docs/API.md, Routes.
    package func buildRouter() -> Router<ProxyRequestContext> {
        let router = Router(context: ProxyRequestContext.self)
        router.add(middleware: ErrorEnvelopeMiddleware())
        let authenticator = BearerAuthenticator(tokens: configuration.tokens)
        let passThrough = PassThroughRoute(configuration: configuration, pools: upstream.pools)
        let metrics = self.metrics
        let store = self.store
        let attestation = self.attestation
        let requireAuth = configuration.attestationRequireAuth

        router.get("/") { _, _ in Self.json("{}") }
        router.get("/health") { _, _ in Self.json(#"{"status":"ok"}"#) }
        router.get("/version") { _, _ in Self.json(#"{"version":"\#(BuildInfo.version)","type":"proxy"}"#) }
        // Completions, /v1/models and /v1/signature/{chat_id} never reach this router: FastPathRouter
        // serves them in each connection's pipeline (see makeApplication).
        router.get("/v1/attestation/report") { request, _ in
            if requireAuth { try authenticator.authenticate(request.headers) }
            metrics.increment(.attestationReports)
            let query = request.uri.queryParameters
            let bytes = try await attestation.report(
                signingAlgo: query.get("signing_algo"),
                nonce: query.get("nonce"),
                signingAddress: query.get("signing_address"),
                includeTLSFingerprint: query.get("include_tls_fingerprint")?.lowercased() == "true"
                    || query.get("version") == "2"
            )
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
        let pools = upstream.pools
        router.get("/metrics") { _, _ in
            Self.text(metrics.render(storedSignatures: store.count) + pools.renderMetrics())
        }
        router.get("/v1/metrics") { _, context in
            // Proxy metrics, a separator, then vLLM's own (the Python proxy's shape); vLLM being
            // down must not hide the proxy's numbers.
            var text = metrics.render(storedSignatures: store.count) + pools.renderMetrics()
            text += "# --- vLLM Backend Metrics ---\n"
            if let upstream = try? await passThrough.fetch("/metrics", logger: context.logger), upstream.status == 200 {
                text += String(buffer: upstream.body)
            } else {
                text += "# vLLM metrics unavailable\n"
            }
            return Self.text(text)
        }
        return router
    }

    private static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func text(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}

extension ProxyApplication {
    /// What the completion and model routes share on every connection's fast path.
    func fastPathServices(logger: Logger) -> FastPathServices {
        let authenticator = BearerAuthenticator(tokens: configuration.tokens)
        return FastPathServices(
            configuration: configuration,
            target: upstream.pools.target,
            authenticator: authenticator,
            notary: notary,
            signatures: SignatureRoute(authenticator: authenticator, notary: notary, metrics: metrics),
            metrics: metrics,
            pools: upstream.pools,
            logger: logger,
            upstreamTimeout: .nanoseconds(configuration.upstreamTimeout.nanoseconds),
            headerTimeout: .nanoseconds(configuration.headerTimeout.nanoseconds),
            bodyTimeout: .nanoseconds(configuration.bodyTimeout.nanoseconds),
            bodyMinRate: configuration.bodyMinRate,
            keepAliveTimeout: .nanoseconds(configuration.keepAliveTimeout.nanoseconds),
            connections: connections,
            live: upstream.pools.live,
            rateLimiter: configuration.rateLimits.map { RateLimiter(settings: $0) },
            e2ee: e2ee,
            replayStore: replayStore
        )
    }
}

/// The build identifier served at `/version`.
package enum BuildInfo {
    package static let version = "0.1.0"
}

extension ProxyApplication {
    /// A runnable Hummingbird application serving the routes; the upstream client runs beside it as a service.
    ///
    /// With both `tlsCertificatePath` and `tlsKeyPath` set, TLS terminates inside the proxy, so the
    /// certificate bound into TLS-layout attestation reports is the one clients actually see.
    /// - Parameter onServerRunning: called with the bound port once listening (port 0 picks a free one).
    /// - Throws: when the certificate or key cannot be loaded.
    package func makeApplication(
        logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let services = fastPathServices(logger: logger)
        if connections.limit < connections.requested {
            logger.warning(
                "VLLM_PROXY_MAX_CONNECTIONS lowered to half the open-file limit",
                metadata: ["requested": "\(connections.requested)", "effective": "\(connections.limit)"])
        }
        let http1 = HTTPServerBuilder { responder in FastPathHTTP1Channel(responder: responder, services: services) }
        var server = http1
        if let certificatePath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath {
            let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            server = try .tls(
                http1,
                tlsConfiguration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            )
        }
        return Application(
            router: buildRouter(),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: [upstream] + (sharedStore.map { [$0] } ?? []),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}
