import Foundation
import Logging
import SigningCore
import SigningCrypto
import Testing

@testable import TEE

@Suite("AttestationService")
struct AttestationServiceTests {
    static let nonce = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    static let address = "b6a9f297c41c48a978edd2f9ba48c355ae418fa4"
    static let ed25519Key = "763b714f70ece323e9bc5894a0113e16192938c11af32a9b8043ee0402416b31"
    static let caFingerprint = "7af8c9f9564fbc3c472767a38de21a51830c7047175cf8ec88bc9b7febc0c8a8"

    struct Setup {
        var agent: AttestationFakeAgent?
        var gpu: any GPUEvidenceProvider
        var clock: AttestationManualClock
        var service: AttestationService
    }

    static func make(
        agent: AttestationFakeAgent.Behaviour? = AttestationFakeAgent.Behaviour(),
        gpu: (any GPUEvidenceProvider)? = nil,
        keys: SigningKeys? = nil,
        info: DstackInfo? = AttestationFixtures.info(),
        fingerprint: String? = nil,
        mode: AttestationMode = .tee,
        maxPending: Int = 8
    ) throws -> Setup {
        let fakeAgent = try agent.map { try AttestationFakeAgent(behaviour: $0) }
        let provider = gpu ?? AttestationFakeGPU()
        let clock = AttestationManualClock()
        let service = AttestationService(
            agent: fakeAgent,
            keys: try keys ?? AttestationFixtures.simulatorKeys(),
            info: info,
            modelName: "tiny",
            gpu: provider,
            tlsCertificateFingerprint: try fingerprint.map { try Hex.decode($0) },
            mode: mode,
            cacheTTL: .seconds(300),
            maxPending: maxPending,
            logger: Logger(label: "test.attestation", factory: { _ in SwiftLogNoOpLogHandler() }),
            now: { clock.now }
        )
        return Setup(agent: fakeAgent, gpu: provider, clock: clock, service: service)
    }

    static func object(_ body: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
    }

    static func expectError(_ expected: AttestationError, _ body: () async throws(AttestationError) -> [UInt8]) async {
        do {
            _ = try await body()
            Issue.record("expected \(expected)")
        } catch {
            #expect(error == expected)
        }
    }

    // MARK: - Validation order and messages

    @Test func rejectsUnknownAlgorithmFirst() async throws {
        let setup = try Self.make()
        let query = AttestationQuery(signingAlgo: "rsa", nonce: "zz", signingAddress: "0x00")
        await Self.expectError(.invalidSigningAlgo) { () throws(AttestationError) in try await setup.service.report(query) }
        await Self.expectError(.invalidSigningAlgo) { () throws(AttestationError) in
            try await setup.service.report(AttestationQuery(signingAlgo: "ECDSA"))
        }
        #expect(AttestationError.invalidSigningAlgo.message == "Invalid signing algorithm. Must be 'ed25519' or 'ecdsa'")
        #expect(AttestationError.invalidSigningAlgo.status == 400)
        #expect(setup.agent?.quoteCalls == 0)
    }

    @Test func foreignAddressIs404BeforeBadNonce() async throws {
        let setup = try Self.make()
        let query = AttestationQuery(nonce: "not-hex", signingAddress: "0x0000000000000000000000000000000000000001")
        await Self.expectError(.signingAddressNotFound) { () throws(AttestationError) in try await setup.service.report(query) }
        #expect(AttestationError.signingAddressNotFound.message == "Signing address not found on this server")
        #expect(AttestationError.signingAddressNotFound.status == 404)
        // The ecdsa address is not the ed25519 signer.
        await Self.expectError(.signingAddressNotFound) { () throws(AttestationError) in
            try await setup.service.report(AttestationQuery(signingAlgo: "ed25519", signingAddress: Self.address))
        }
    }

    @Test(arguments: [
        ("zz" + String(repeating: "00", count: 31), AttestationError.nonceNotHex),
        ("abc", .nonceNotHex),
        ("0x" + String(repeating: "00", count: 32), .nonceNotHex),
        (String(repeating: "00", count: 31), .nonceWrongLength),
        (String(repeating: "00", count: 33), .nonceWrongLength),
        ("", .nonceWrongLength),
        (String(repeating: "0", count: 63) + " ", .nonceNotHex),
    ])
    func rejectsMalformedNonce(nonce: String, expected: AttestationError) async throws {
        let setup = try Self.make()
        await Self.expectError(expected) { () throws(AttestationError) in
            try await setup.service.report(AttestationQuery(nonce: nonce, signingAddress: "0x" + Self.address))
        }
        #expect(setup.agent?.quoteCalls == 0)
    }

    @Test func nonceMessagesAndTypes() {
        #expect(AttestationError.nonceNotHex.message == "Nonce must be hex-encoded")
        #expect(AttestationError.nonceWrongLength.message == "Nonce must be 32 bytes")
        #expect(AttestationError.nonceNotHex.type == "bad_request" && AttestationError.nonceNotHex.status == 400)
    }

    @Test(arguments: [
        "0xB6A9f297c41c48a978eDD2f9Ba48c355aE418FA4", "b6a9f297c41c48a978edd2f9ba48c355ae418fa4",
        "0XB6A9F297C41C48A978EDD2F9BA48C355AE418FA4",
    ])
    func ownAddressPassesFilterInAnyCase(address: String) async throws {
        let setup = try Self.make()
        let body = try await setup.service.report(AttestationQuery(nonce: Self.nonce.uppercased(), signingAddress: address))
        let report = try Self.object(body)
        #expect(report["request_nonce"] as? String == Self.nonce)
        #expect(report["signing_address"] as? String == "0xB6A9f297c41c48a978eDD2f9Ba48c355aE418FA4")
    }

    // MARK: - report_data (reference vectors)

    @Test func plainReportDataVector() async throws {
        let setup = try Self.make()
        let body = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
        let expected = Self.address + String(repeating: "0", count: 24) + Self.nonce
        let agent = try #require(setup.agent)
        #expect(agent.requestedReportData.map { Hex.encode($0) } == [expected])
        let report = try Self.object(body)
        let quote = try Hex.decode(try #require(report["intel_quote"] as? String))
        #expect(Hex.encode(quote[568..<632]) == expected)
        #expect(report["tls_cert_fingerprint"] == nil)
    }

    @Test func tlsBoundReportDataVector() async throws {
        let setup = try Self.make(fingerprint: Self.caFingerprint)
        let body = try await setup.service.report(AttestationQuery(nonce: Self.nonce, includeTLSFingerprint: true))
        let agent = try #require(setup.agent)
        #expect(
            agent.requestedReportData.map { Hex.encode($0) } == [
                "be437560b59a3ae9fa043e4e7680b6fae252b3d0fdf0c2ea56d282f2e6a2dbc9" + Self.nonce
            ]
        )
        #expect(try Self.object(body)["tls_cert_fingerprint"] as? String == Self.caFingerprint)

        // Without the query flag the same instance reports the plain layout.
        let plain = try Self.object(try await setup.service.report(AttestationQuery(nonce: Self.nonce)))
        #expect(plain["tls_cert_fingerprint"] == nil)
        #expect(agent.requestedReportData.last.map { Hex.encode($0.prefix(20)) } == Self.address)
    }

    @Test func tlsRequestWithoutCertificateFallsBackToPlain() async throws {
        let setup = try Self.make(fingerprint: nil)
        let body = try await setup.service.report(AttestationQuery(nonce: Self.nonce, includeTLSFingerprint: true))
        #expect(try Self.object(body)["tls_cert_fingerprint"] == nil)
        #expect(setup.agent?.requestedReportData.map { Hex.encode($0) } == [Self.address + String(repeating: "0", count: 24) + Self.nonce])
    }

    @Test func ed25519Report() async throws {
        let setup = try Self.make()
        let body = try await setup.service.report(
            AttestationQuery(signingAlgo: "ed25519", nonce: Self.nonce, signingAddress: Self.ed25519Key.uppercased())
        )
        let report = try Self.object(body)
        #expect(report["signing_algo"] as? String == "ed25519")
        #expect(report["signing_address"] as? String == Self.ed25519Key)
        #expect(report["signing_public_key"] as? String == Self.ed25519Key)
        #expect(setup.agent?.requestedReportData.map { Hex.encode($0) } == [Self.ed25519Key + Self.nonce])
        let provenance = try #require(report["key_provenance"] as? [String: Any])
        #expect(provenance["algorithm"] as? String == "ed25519")
        #expect(provenance["public_key"] as? String == Self.ed25519Key)
        // Filled from Info when the key source did not know the app id.
        #expect(provenance["app_id"] as? String == "5bb4ff9a3837357f19dc176407a5709c62eb6c56")
    }

    // MARK: - Response shape (docs/API.md, Response fields)

    @Test func reportShape() async throws {
        let setup = try Self.make()
        let body = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
        let report = try Self.object(body)
        let agent = try #require(setup.agent)

        #expect(report["model_name"] as? String == "tiny")
        #expect(report["signing_algo"] as? String == "ecdsa")
        #expect(
            report["signing_public_key"] as? String
                == "5a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8ae95f736d70fc7199233d141c97904dca0400f18ffef8dd6126b59d54620cf0c"
        )
        let quote = try #require(report["intel_quote"] as? String)
        #expect(report["quote"] as? String == quote)
        #expect(quote.count == 10012)
        // event_log and vm_config stay strings, byte for byte.
        #expect(report["event_log"] as? String == agent.eventLog)
        #expect(report["vm_config"] as? String == agent.vmConfig)
        #expect(report["mode"] as? String == "tee")
        #expect(report["gpu_evidence"] as? [String: Any] != nil)  // canned GPU in this setup

        let info = try #require(report["info"] as? [String: Any])
        #expect(info["app_id"] as? String == "5bb4ff9a3837357f19dc176407a5709c62eb6c56")
        #expect((info["tcb_info"] as? [String: Any])?["mrtd"] as? String == "00")

        let payloadText = try #require(report["nvidia_payload"] as? String)
        let payload = try Self.object(Array(payloadText.utf8))
        #expect(payload["nonce"] as? String == Self.nonce)
        #expect(payload["arch"] as? String == "HOPPER")

        let provenance = try #require(report["key_provenance"] as? [String: Any])
        #expect(Set(provenance.keys) == ["path", "purpose", "algorithm", "public_key", "signature_chain", "app_id"])
        #expect(provenance["path"] as? String == "tiny/ecdsa-signing-key")
        #expect(provenance["signature_chain"] as? [String] == ["ecdsa-link-0", "k256-link-1"])

        let all = try #require(report["all_attestations"] as? [[String: Any]])
        #expect(all.count == 1)
        var withoutArray = report
        withoutArray.removeValue(forKey: "all_attestations")
        #expect(NSDictionary(dictionary: all[0]).isEqual(to: withoutArray))
        #expect(all[0]["all_attestations"] == nil)

        // Key order of docs/API.md, Response fields (the JSON is written, not encoded).
        let text = String(decoding: body, as: UTF8.self)
        let order = ["model_name", "signing_address", "signing_algo", "signing_public_key", "request_nonce", "intel_quote", "quote", "event_log", "vm_config", "nvidia_payload", "info"]
        let positions = order.compactMap { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(positions.count == order.count && positions == positions.sorted())
    }

    @Test func eventLogIsEmbeddedAsAJSONString() async throws {
        let setup = try Self.make()
        let body = String(decoding: try await setup.service.report(AttestationQuery(nonce: Self.nonce)), as: UTF8.self)
        #expect(body.contains(#""event_log":"[{\"imr\":0,"#))
    }

    @Test func devKeysCarryNoProvenance() async throws {
        let setup = try Self.make(keys: try AttestationFixtures.simulatorKeys(origin: .dev), mode: .dev)
        let report = try Self.object(try await setup.service.report(AttestationQuery(nonce: Self.nonce)))
        #expect(report["key_provenance"] == nil)
        #expect(report["mode"] as? String == "dev")
    }

    @Test func devModeWithoutAgentIs503AfterValidation() async throws {
        let setup = try Self.make(agent: nil, mode: .dev)
        await Self.expectError(.devModeUnavailable) { () throws(AttestationError) in
            try await setup.service.report(AttestationQuery(nonce: Self.nonce))
        }
        await Self.expectError(.devModeUnavailable) { () throws(AttestationError) in try await setup.service.report(AttestationQuery()) }
        await Self.expectError(.invalidSigningAlgo) { () throws(AttestationError) in
            try await setup.service.report(AttestationQuery(signingAlgo: "x"))
        }
        #expect(AttestationError.devModeUnavailable.status == 503)
        #expect(AttestationError.devModeUnavailable.message.contains("dev mode"))
        #expect(AttestationError.devModeUnavailable.message.contains("not TEE-derived"))
    }

    @Test func missingInfoIsFetchedOnce() async throws {
        let setup = try Self.make(info: nil)
        _ = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
        let report = try Self.object(try await setup.service.report(AttestationQuery(nonce: Self.nonce)))
        #expect(setup.agent?.infoCalls == 1)
        #expect((report["info"] as? [String: Any])?["app_name"] as? String == "tiny")
    }

    // MARK: - Failures

    @Test func agentFailureIs503NamingTheAgent() async throws {
        var behaviour = AttestationFakeAgent.Behaviour()
        behaviour.failingQuotes = 1
        let setup = try Self.make(agent: behaviour)
        do {
            _ = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
            Issue.record("expected 503")
        } catch {
            #expect(error.status == 503 && error.type == "service_unavailable")
            #expect(error.message.hasPrefix("dstack agent unavailable"))
        }
        // Not cached, not sticky: the next request works.
        _ = try await setup.service.report(AttestationQuery())
    }

    @Test func reportDataMismatchIs503() async throws {
        var behaviour = AttestationFakeAgent.Behaviour()
        behaviour.patchReportData = false
        let setup = try Self.make(agent: behaviour)
        do {
            _ = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
            Issue.record("expected 503")
        } catch {
            #expect(error.status == 503)
            #expect(error.message.contains("report_data"))
        }
    }

    @Test func quoteV5ReportDataIsCheckedAtItsOffset() async throws {
        var behaviour = AttestationFakeAgent.Behaviour()
        behaviour.quoteVersion = 5
        let setup = try Self.make(agent: behaviour)
        let report = try Self.object(try await setup.service.report(AttestationQuery(nonce: Self.nonce)))
        let quote = try Hex.decode(try #require(report["quote"] as? String))
        #expect(Hex.encode(quote[574..<638]).hasSuffix(Self.nonce))
    }

    @Test func gpuFailureIs503NamingTheGPU() async throws {
        let setup = try Self.make(gpu: AttestationFakeGPU(.fail))
        do {
            _ = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
            Issue.record("expected 503")
        } catch {
            #expect(error.status == 503 && error.type == "service_unavailable")
            #expect(error.message.hasPrefix("GPU evidence unavailable"))
        }
    }

    @Test func gpuUnavailableIsShownInTheReport() async throws {
        let provider = NVMLEvidenceProvider(library: "libnvidia-ml-absent-for-tests.so.1", logger: Logger(label: "test.gpu", factory: { _ in SwiftLogNoOpLogHandler() }))
        let setup = try Self.make(gpu: provider)
        let report = try Self.object(try await setup.service.report(AttestationQuery(nonce: Self.nonce)))
        let status = try #require(report["gpu_evidence"] as? [String: Any])
        #expect(status["status"] as? String == "unavailable")
        #expect((status["reason"] as? String)?.contains("not found") == true)
        let payload = try Self.object(Array(try #require(report["nvidia_payload"] as? String).utf8))
        #expect((payload["evidence_list"] as? [Any])?.isEmpty == true)
        #expect(payload["nonce"] as? String == Self.nonce)
    }

    @Test func gpuGetsTheRequestNonce() async throws {
        let gpu = AttestationFakeGPU()
        let setup = try Self.make(gpu: gpu)
        _ = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
        #expect(gpu.requestedNonces.map { Hex.encode($0) } == [Self.nonce])
    }

    // MARK: - Cache, single flight, back-pressure

    @Test func noncelessReportIsCachedUntilTTL() async throws {
        let setup = try Self.make()
        let agent = try #require(setup.agent)
        let first = try await setup.service.report(AttestationQuery())
        let second = try await setup.service.report(AttestationQuery())
        #expect(first == second)
        #expect(agent.quoteCalls == 1)

        setup.clock.advance(by: .seconds(299))
        #expect(try await setup.service.report(AttestationQuery()) == first)
        #expect(agent.quoteCalls == 1)

        setup.clock.advance(by: .seconds(2))
        let refreshed = try await setup.service.report(AttestationQuery())
        #expect(agent.quoteCalls == 2)
        let oldNonce = try Self.object(first)["request_nonce"] as? String
        let newNonce = try Self.object(refreshed)["request_nonce"] as? String
        #expect(oldNonce != newNonce)
        #expect(newNonce?.count == 64)
    }

    @Test func cacheIsPerAlgorithmAndLayout() async throws {
        let setup = try Self.make(fingerprint: Self.caFingerprint)
        let agent = try #require(setup.agent)
        _ = try await setup.service.report(AttestationQuery())
        _ = try await setup.service.report(AttestationQuery(signingAlgo: "ed25519"))
        _ = try await setup.service.report(AttestationQuery(includeTLSFingerprint: true))
        _ = try await setup.service.report(AttestationQuery(signingAlgo: "ed25519", includeTLSFingerprint: true))
        #expect(agent.quoteCalls == 4)
        _ = try await setup.service.report(AttestationQuery(signingAlgo: "ed25519", includeTLSFingerprint: true))
        #expect(agent.quoteCalls == 4)
    }

    @Test func requestsWithNonceAreAlwaysFresh() async throws {
        let setup = try Self.make()
        _ = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
        _ = try await setup.service.report(AttestationQuery(nonce: Self.nonce))
        #expect(setup.agent?.quoteCalls == 2)
    }

    @Test func concurrentNoncelessRequestsShareOneQuote() async throws {
        var behaviour = AttestationFakeAgent.Behaviour()
        behaviour.gated = true
        let setup = try Self.make(agent: behaviour)
        let agent = try #require(setup.agent)
        let service = setup.service
        let bodies = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<16 {
                group.addTask { try await service.report(AttestationQuery()) }
            }
            try await agent.waitForQuoteCalls(1)
            // Give the other requests time to join the build; any that come later hit the cache instead.
            try await Task.sleep(for: .milliseconds(50))
            agent.openGate()
            return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(bodies.count == 16)
        #expect(Set(bodies).count == 1)
        #expect(agent.quoteCalls == 1)
    }

    @Test func freshReportsBeyondMaxPendingAre429() async throws {
        var behaviour = AttestationFakeAgent.Behaviour()
        behaviour.gated = true
        let setup = try Self.make(agent: behaviour, maxPending: 2)
        let agent = try #require(setup.agent)
        let service = setup.service
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask { _ = try await service.report(AttestationQuery(nonce: Self.nonce)) }
            }
            try await agent.waitForQuoteCalls(2)
            await Self.expectError(.tooManyPending) { () throws(AttestationError) in
                try await service.report(AttestationQuery(nonce: Self.nonce))
            }
            // Nonce-less requests are not fresh reports: they are not refused.
            group.addTask { _ = try await service.report(AttestationQuery()) }
            agent.openGate()
            try await group.waitForAll()
        }
        #expect(AttestationError.tooManyPending.status == 429 && AttestationError.tooManyPending.type == "rate_limited")
        // Slots are released once the reports are done.
        _ = try await service.report(AttestationQuery(nonce: Self.nonce))
        #expect(agent.quoteCalls == 4)
    }
}
