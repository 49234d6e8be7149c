import Crypto
import Logging
import SigningContract
import SigningCore
import SigningCrypto
import Synchronization

/// Builds `GET /v1/attestation/report` bodies (docs/API.md, Attestation report): validation,
/// `report_data`, quote and GPU evidence, caching and back-pressure.
///
/// - Requests with a `nonce` always get a fresh report; at most `maxPending` of them run at once, more
///   are refused with 429.
/// - Requests without one share a cached report per (algorithm, layout), built with a random nonce and
///   kept for `cacheTTL`; concurrent misses share one build (single flight).
/// - Each build asks the agent for a quote and the GPU provider for evidence concurrently and checks that
///   the quote's REPORT_DATA is the one requested.
package final class AttestationService: Sendable {
    private struct CacheKey: Hashable, Sendable {
        var algorithm: SignatureAlgorithm
        var tlsBound: Bool
    }

    private struct CachedReport: Sendable {
        var body: [UInt8]
        var expires: ContinuousClock.Instant
    }

    private typealias Build = Task<Result<[UInt8], AttestationError>, Never>

    private struct State: Sendable {
        var pending = 0
        var cached: [CacheKey: CachedReport] = [:]
        var inFlight: [CacheKey: Build] = [:]
        var info: DstackInfo?
    }

    private let agent: (any DstackAgent)?
    private let keys: SigningKeys
    private let e2eePublicKeys: [E2EEPublicKeyEntry]
    private let modelName: String
    private let gpu: any GPUEvidenceProvider
    private let tlsCertificateFingerprint: [UInt8]?
    private let mode: AttestationMode
    private let cacheTTL: Duration
    private let maxPending: Int
    private let logger: Logger
    private let now: @Sendable () -> ContinuousClock.Instant
    private let state: Mutex<State>

    /// - Parameters:
    ///   - agent: the dstack guest agent; nil in dev mode without one (every report is then a 503).
    ///   - keys: the signing keys whose address or public key goes into `report_data`.
    ///   - info: `Info`, read once at startup; nil makes the first report fetch it.
    ///   - tlsCertificateFingerprint: SHA-256 of the TLS certificate's SPKI (32 bytes), nil without `TLS_CERT_PATH`.
    ///   - cacheTTL: lifetime of nonce-less reports; at least 2 s.
    ///   - maxPending: fresh reports allowed to run at once; at least 1.
    ///   - now: the clock for cache expiry (tests move it by hand).
    ///   - e2eePublicKeys: the keys E2EE clients encrypt to, listed in every report.
    package init(
        agent: (any DstackAgent)?,
        keys: SigningKeys,
        info: DstackInfo?,
        modelName: String,
        gpu: any GPUEvidenceProvider,
        tlsCertificateFingerprint: [UInt8]?,
        mode: AttestationMode,
        cacheTTL: Duration,
        maxPending: Int,
        logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        e2eePublicKeys: [E2EEPublicKeyEntry] = []
    ) {
        self.agent = agent
        self.keys = keys
        self.e2eePublicKeys = e2eePublicKeys
        self.modelName = modelName
        self.gpu = gpu
        self.tlsCertificateFingerprint = tlsCertificateFingerprint
        self.mode = mode
        self.cacheTTL = max(.seconds(2), cacheTTL)
        self.maxPending = max(1, maxPending)
        self.logger = logger
        self.now = now
        self.state = Mutex(State(info: info))
    }

    /// The report JSON body (docs/API.md, Response fields) or an AttestationError carrying the HTTP
    /// status/type/message.
    package func report(_ query: AttestationQuery) async throws(AttestationError) -> [UInt8] {
        // Algorithm, then address filter, then nonce (docs/API.md, Query, checked in this order).
        let algorithm = try Self.algorithm(query.signingAlgo)
        if let requested = query.signingAddress, !Self.sameAddress(requested, signerHex(algorithm)) {
            throw .signingAddressNotFound
        }
        var nonce: [UInt8]?
        if let text = query.nonce { nonce = try Self.parseNonce(text) }
        guard let agent else { throw .devModeUnavailable }

        // Without a configured certificate the plain layout is used and no fingerprint is reported (Rust).
        let fingerprint = query.includeTLSFingerprint ? tlsCertificateFingerprint : nil
        if let nonce {
            try acquirePendingSlot()
            defer { state.withLock { $0.pending -= 1 } }
            return try await build(agent: agent, algorithm: algorithm, nonce: nonce, fingerprint: fingerprint)
        }
        return try await cachedReport(agent: agent, key: CacheKey(algorithm: algorithm, tlsBound: fingerprint != nil), fingerprint: fingerprint)
    }

    // MARK: - Validation

    private static func algorithm(_ value: String?) throws(AttestationError) -> SignatureAlgorithm {
        guard let value else { return .ecdsa }
        guard let algorithm = SignatureAlgorithm(rawValue: value) else { throw .invalidSigningAlgo }
        return algorithm
    }

    /// Exactly 64 hex digits of either case; no `0x`, no blanks.
    private static func parseNonce(_ text: String) throws(AttestationError) -> [UInt8] {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0, digits.allSatisfy(isHexDigit) else { throw .nonceNotHex }
        guard digits.count == 64 else { throw .nonceWrongLength }
        guard let nonce = try? Hex.decode(text) else { throw .nonceNotHex }
        return nonce
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
        default: false
        }
    }

    /// Case-insensitive, an optional `0x`/`0X` ignored.
    private static func sameAddress(_ requested: String, _ ownHex: String) -> Bool {
        var candidate = Substring(requested)
        if candidate.hasPrefix("0x") || candidate.hasPrefix("0X") { candidate = candidate.dropFirst(2) }
        return candidate.lowercased() == ownHex
    }

    /// Lowercase hex of the signer: the 20-byte address or the 32-byte ed25519 key.
    private func signerHex(_ algorithm: SignatureAlgorithm) -> String {
        switch algorithm {
        case .ecdsa: Hex.encode(keys.ecdsaAddress.bytes)
        case .ed25519: keys.ed25519PublicKeyHex
        }
    }

    private func signerBytes(_ algorithm: SignatureAlgorithm) -> [UInt8] {
        switch algorithm {
        case .ecdsa: keys.ecdsaAddress.bytes
        case .ed25519: Array(keys.ed25519.publicKey.rawRepresentation)
        }
    }

    // MARK: - Fresh reports and the cache

    private func acquirePendingSlot() throws(AttestationError) {
        let admitted = state.withLock { state in
            guard state.pending < maxPending else { return false }
            state.pending += 1
            return true
        }
        guard admitted else { throw .tooManyPending }
    }

    private enum Lookup {
        case hit([UInt8])
        case join(Build)
    }

    private func cachedReport(agent: any DstackAgent, key: CacheKey, fingerprint: [UInt8]?) async throws(AttestationError) -> [UInt8] {
        let instant = now()
        let lookup: Lookup = state.withLock { state in
            if let entry = state.cached[key], instant < entry.expires { return .hit(entry.body) }
            if let running = state.inFlight[key] { return .join(running) }
            // Unstructured on purpose: the build is shared by every waiter and must finish (and fill the
            // cache) even if the request that started it goes away. It is bounded by the agent and GPU limits.
            let build = Build {
                await self.refresh(agent: agent, key: key, fingerprint: fingerprint)
            }
            state.inFlight[key] = build
            return .join(build)
        }
        switch lookup {
        case .hit(let body):
            return body
        case .join(let build):
            return try await build.value.get()
        }
    }

    private func refresh(agent: any DstackAgent, key: CacheKey, fingerprint: [UInt8]?) async -> Result<[UInt8], AttestationError> {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let result: Result<[UInt8], AttestationError>
        do {
            result = .success(try await build(agent: agent, algorithm: key.algorithm, nonce: nonce, fingerprint: fingerprint))
        } catch {
            result = .failure(error)
        }
        let expires = now() + cacheTTL
        state.withLock { state in
            state.inFlight[key] = nil
            // Failures are not cached: the next request tries again.
            if case .success(let body) = result { state.cached[key] = CachedReport(body: body, expires: expires) }
        }
        return result
    }

    // MARK: - Building one report

    private func build(agent: any DstackAgent, algorithm: SignatureAlgorithm, nonce: [UInt8], fingerprint: [UInt8]?) async throws(AttestationError) -> [UInt8] {
        let reportData = ReportData.make(signer: signerBytes(algorithm), nonce: nonce, tlsFingerprint: fingerprint)
        let gpu = self.gpu
        async let quoteResult = Self.capture { try await agent.getQuote(reportData: reportData) }
        async let gpuResult = Self.capture { try await gpu.evidence(nonce: nonce) }
        async let infoResult = resolveInfo(agent: agent)
        let (quoteOutcome, gpuOutcome, infoOutcome) = await (quoteResult, gpuResult, infoResult)

        let quote: DstackQuote
        let info: DstackInfo
        let evidence: GPUEvidence
        switch (quoteOutcome, infoOutcome) {
        case (.success(let q), .success(let i)):
            quote = q
            info = i
        case (.failure(let error), _), (_, .failure(let error)):
            logger.error("dstack agent failed during attestation", metadata: ["attestation.error": "\(error)"])
            throw .serviceUnavailable("dstack agent unavailable: \(Self.describe(error))")
        }
        switch gpuOutcome {
        case .success(let e):
            evidence = e
        case .failure(let error):
            logger.error("GPU evidence failed during attestation", metadata: ["attestation.error": "\(error)"])
            throw .serviceUnavailable("GPU evidence unavailable: \(Self.describe(error))")
        }
        guard let bound = ReportData.fromQuote(quote.quote), bound.elementsEqual(reportData) else {
            logger.error("quote REPORT_DATA differs from the requested report_data")
            throw .serviceUnavailable("dstack agent unavailable: the quote does not carry the requested report_data")
        }
        return AttestationReportBody.json(
            fields: reportFields(algorithm: algorithm, nonce: nonce, fingerprint: fingerprint, quote: quote, info: info, evidence: evidence)
        )
    }

    private func reportFields(
        algorithm: SignatureAlgorithm,
        nonce: [UInt8],
        fingerprint: [UInt8]?,
        quote: DstackQuote,
        info: DstackInfo,
        evidence: GPUEvidence
    ) -> AttestationReportBody.Fields {
        let provenance: KeyProvenance? =
            switch algorithm {
            case .ecdsa: keys.ecdsaProvenance
            case .ed25519: keys.ed25519Provenance
            }
        return AttestationReportBody.Fields(
            modelName: modelName,
            signingAddress: keys.signingAddress(algorithm),
            signingAlgo: algorithm.rawValue,
            signingPublicKey: algorithm == .ecdsa ? keys.ecdsaPublicKeyHex : keys.ed25519PublicKeyHex,
            requestNonce: Hex.encode(nonce),
            quote: quote,
            info: info,
            nvidiaPayload: evidence.payload,
            gpuStatus: evidence.status,
            tlsCertificateFingerprint: fingerprint.map { Hex.encode($0) },
            // Development keys never carry provenance, and must not look as if they did.
            keyProvenance: keys.origin == .dev ? nil : provenance,
            mode: mode,
            e2eePublicKeys: e2eePublicKeys
        )
    }

    private func resolveInfo(agent: any DstackAgent) async -> Result<DstackInfo, any Error> {
        if let known = state.withLock({ $0.info }) { return .success(known) }
        do {
            let info = try await agent.info()
            state.withLock { $0.info = info }
            return .success(info)
        } catch {
            return .failure(error)
        }
    }

    private static func capture<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }

    /// Agent and GPU errors describe themselves safely; anything else is named only by its type.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as DstackAgentError: error.description
        case let error as GPUEvidenceError: error.description
        case is CancellationError: "cancelled"
        default: "\(type(of: error))"
        }
    }
}
