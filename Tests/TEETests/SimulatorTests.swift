import DstackSimulator
import Foundation
import SigningContract
import SigningCrypto
import TDX
import TestFixtures
import Testing

@testable import TEE

@Suite("dstack key derivation")
struct DstackKeyIssuerTests {
    @Test func dstackPinnedVector() throws {
        let root = try Secp256k1PrivateKey(
            rawRepresentation: DstackTestSupport.hex("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b"))
        let issuer = DstackKeyIssuer(appRootKey: root, kmsSignature: [UInt8](repeating: 0, count: 65))
        let issued = try issuer.issue(path: "test", purpose: "signing", algorithm: .secp256k1)
        #expect(DstackTestSupport.hex(issued.key) == "52786aa123b0971e283af97f32e25767483d099d66e6c40afeb3a49046b5379e")
        let publicKey = try Secp256k1PrivateKey(rawRepresentation: issued.key).publicKey.compressed
        #expect(DstackTestSupport.hex(publicKey) == "02ead9e0064aad1bb151c270c78ef82a4caf6d3fc92c311804e79751deb3476919")
        #expect(
            DstackTestSupport.hex(issued.chain[0])
                == "c8a3dcf06c4e95bd78a5d7a1c8fcff171fc5848cfae804c6fc11bda4dc5d4062379995390843827444992c4c0e4bac70f0f878e01b9fc8b98cd7126fe5a3876b01"
        )
    }

    @Test(arguments: [
        (
            "tiny/ecdsa-signing-key", DstackKeyIssuer.Algorithm.secp256k1,
            "f5a9f436830b1fce8112b1267a45521020b0f220e336553079308c0c47760765",
            "809854ace6ef4dc48c5c8edc6f2946254ceebb798773ba8a1659dd76ca3fcace517b14311b7b88509a99bf5dacfecc6c0018470011acbd5ebb8c48f059357f1200"
        ),
        (
            "tiny/ed25519-signing-key", DstackKeyIssuer.Algorithm.ed25519,
            "b1bd5bf3207b1feadc6ec9f82747905f00d00be9e0628c8b4e6f449ac96b66bf",
            "a23a71fcc5c9a056970b68e94c2a3649aee9b234cca095d5b9c6c8e6fc6998315367a61c4a04efd5c7cd5ea45b0c1cb4006577e09c2a9a615d25e6eab85fc61e00"
        ),
    ])
    func simulatorKeysForTiny(path: String, algorithm: DstackKeyIssuer.Algorithm, key: String, link0: String) throws {
        let issuer = try DstackKeyIssuer(appKeysJSON: DstackTestSupport.fixture("appkeys.json"))
        let issued = try issuer.issue(path: path, purpose: "signing", algorithm: algorithm)
        #expect(DstackTestSupport.hex(issued.key) == key)
        #expect(DstackTestSupport.hex(issued.chain[0]) == link0)
        #expect(issued.chain[1] == issuer.kmsSignature)
    }

    @Test func appRootAndKMSLinkOfTheFixture() throws {
        let issuer = try DstackKeyIssuer(appKeysJSON: DstackTestSupport.fixture("appkeys.json"))
        #expect(
            DstackTestSupport.hex(issuer.appRootPublicKey.compressed)
                == "02818494263695e8839122dbd88e281d7380622999df4e60a14befa0f2d096fc7c")
        let digest = DstackKeyChain.kmsClaimDigest(
            appID: try DstackTestSupport.hex("5bb4ff9a3837357f19dc176407a5709c62eb6c56"),
            appRootPublicKey: issuer.appRootPublicKey)
        let kms = try DstackKeyChain.recoverSigner(link: issuer.kmsSignature, digest: digest, what: "link 1")
        #expect(DstackTestSupport.hex(kms.compressed) == "0321529e458424ab1f710a3a57ec4dad2fb195ddca572f7469242ba6c7563085b6")
    }

    @Test func algorithmAliases() {
        #expect(DstackKeyIssuer.Algorithm(requestValue: "") == .secp256k1)
        #expect(DstackKeyIssuer.Algorithm(requestValue: "k256") == .secp256k1)
        #expect(DstackKeyIssuer.Algorithm(requestValue: "ed25519") == .ed25519)
        #expect(DstackKeyIssuer.Algorithm(requestValue: "secp256k1_prehashed") == nil)
        #expect(DstackKeyIssuer.Algorithm(requestValue: "ED25519") == nil)
    }
}

@Suite("dstack simulator quotes and Info are self-consistent")
struct DstackSimulatorEvidenceTests {
    /// Recorded RTMR0–2 of the two templates (`attestation.bin` and `tdx-lite-getquote.json`).
    static let recordedRTMRs: [DstackSimulatorConfiguration.QuoteMode: [String]] = [
        .full: [
            "6203948b7c12a0c2e14ed9b11170d7b85345870a304bb0959d6c198224ce621fe944e4623af9631cd64eeffdc0d7fa94",
            "0ea1ad399114c5909c52c8b8c073f0c4e076b691495ca7d41f88c5bba6859e3911973ec95adce1503eb43f4670a2c306",
            "1c9854088a35a1c44483d6ba5e88333cf6a7f5b5ec26713f722c80dfc2d2b337346d7fb52452eacda0a8a8fb6fd306f1",
        ],
        .stripped: [
            "f8438db36b96f85d8752ff7f24a89ec05c79ec9eda2ba732c897fb970ca429365b7471b1c054cb84f17b1c2b23ba6640",
            "2023546e7f3b9d1228e274f70c44d481162540f8452544520a796a52f06879709b81a824a26792a7822327504b0d2aee",
            "4c1b739ed451a637b0f82642e48a5ea83925d23633c72e7385c8e9aca4175e133ed1625b7d92eb39edf509c27ff392dc",
        ],
    ]

    /// The recorded quote each mode starts from.
    static func templateQuote(_ mode: DstackSimulatorConfiguration.QuoteMode) throws -> [UInt8] {
        switch mode {
        case .full:
            // attestation.bin: 2 header bytes, compact length 49 4e (5010), then the quote.
            return Array(try DstackTestSupport.fixture("attestation.bin")[4..<5014])
        case .stripped:
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(DstackTestSupport.fixture("tdx-lite-getquote.json")))
                    as? [String: Any])
            return try DstackTestSupport.hex(try #require(object["quote"] as? String))
        }
    }

    @Test(arguments: DstackSimulatorConfiguration.QuoteMode.allCases)
    func quoteEventLogAndInfoAgree(mode: DstackSimulatorConfiguration.QuoteMode) async throws {
        let reportData = Array("dip1::test-report-data".utf8)
        let (quote, info) = try await DstackTestSupport.withSimulator(configure: { $0.quoteMode = mode }) { client, _ in
            (try await client.getQuote(reportData: reportData), try await client.info())
        }
        let bytes = quote.quote
        let template = try Self.templateQuote(mode)
        #expect(bytes.count == template.count)

        // REPORTDATA: the request, zero padded.
        #expect(Array(bytes[568..<632]) == reportData + [UInt8](repeating: 0, count: 64 - reportData.count))

        // MRCONFIGID: 01 ‖ sha256(served app-compose) ‖ zeros; the served document is the fixture verbatim.
        let appCompose = try DstackTestSupport.fixture("app-compose.json")
        #expect(info.appCompose.map { Array($0.utf8) } == appCompose)
        let composeHash = DstackTestSupport.sha256(appCompose)
        #expect(Array(bytes[232..<280]) == [1] + composeHash + [UInt8](repeating: 0, count: 15))
        #expect(info.composeHash == DstackTestSupport.hex(composeHash))

        // RTMR0–3 replay from the served log (recomputed here, independently of the TDX target).
        let registers = try DstackTestSupport.replay(eventLog: quote.eventLog)
        for index in 0..<4 {
            #expect(Array(bytes[(376 + 48 * index)..<(424 + 48 * index)]) == registers[index], "RTMR\(index)")
        }
        let recorded = try #require(Self.recordedRTMRs[mode])
        #expect((0..<3).map { DstackTestSupport.hex(registers[$0]) } == recorded)

        // Everything else, including the signature and auth data, is the recorded quote unchanged:
        // only the DCAP signature over bytes 0..632 can fail.
        var patchedRanges = Array(232..<280)
        patchedRanges += Array(520..<632)
        let patched = Set(patchedRanges)
        let changedElsewhere = bytes.indices.filter { !patched.contains($0) && bytes[$0] != template[$0] }
        #expect(changedElsewhere.isEmpty)

        // Runtime identity events match Info.
        let events = try #require(try JSONSerialization.jsonObject(with: Data(quote.eventLog.utf8)) as? [[String: Any]])
        let runtime = events.filter { $0["event_type"] as? Int == 0x0800_0001 }
        func payload(_ name: String) -> String? {
            let matches = runtime.filter { $0["event"] as? String == name }
            return matches.count == 1 ? matches[0]["event_payload"] as? String : nil
        }
        #expect(payload("app-id") == info.appID)
        #expect(payload("app-id") == "5bb4ff9a3837357f19dc176407a5709c62eb6c56")
        #expect(payload("compose-hash") == info.composeHash)
        #expect(payload("instance-id") == info.instanceID)
        let infoObject = try #require(try JSONSerialization.jsonObject(with: Data(info.raw)) as? [String: Any])
        let keyProvider = try #require(payload("key-provider"))
        let keyProviderInfo = try #require(infoObject["key_provider_info"] as? String)
        #expect(try DstackTestSupport.hex(keyProvider) == Array(keyProviderInfo.utf8))

        // tcb_info carries the quote's measurements.
        let tcbText = try #require(infoObject["tcb_info"] as? String)
        let tcb = try #require(try JSONSerialization.jsonObject(with: Data(tcbText.utf8)) as? [String: Any])
        #expect(tcb["mrtd"] as? String == DstackTestSupport.hex(bytes[184..<232]))
        for index in 0..<4 {
            #expect(tcb["rtmr\(index)"] as? String == DstackTestSupport.hex(registers[index]))
        }
        #expect(tcb["compose_hash"] as? String == info.composeHash)

        switch mode {
        case .full:
            #expect(events.count == 33)
            #expect(runtime.allSatisfy { ($0["digest"] as? String)?.count == 96 })
        case .stripped:
            #expect(events.count == 29)
            #expect(runtime.allSatisfy { $0["digest"] as? String == "" })
        }
    }

    @Test func eachQuoteCarriesItsOwnReportData() async throws {
        let (first, second) = try await DstackTestSupport.withSimulator { client, _ in
            (try await client.getQuote(reportData: [1]), try await client.getQuote(reportData: [UInt8](repeating: 7, count: 64)))
        }
        #expect(Array(first.quote[568..<632]) == [1] + [UInt8](repeating: 0, count: 63))
        #expect(Array(second.quote[568..<632]) == [UInt8](repeating: 7, count: 64))
        #expect(first.quote[0..<568] == second.quote[0..<568])
    }

    @Test func badReportDataModeServesAMismatchingQuote() async throws {
        let reportData: [UInt8] = [0xaa, 0xbb]
        let quote = try await DstackTestSupport.withSimulator(configure: { $0.badReportData = true }) { client, _ in
            try await client.getQuote(reportData: reportData)
        }
        let padded = reportData + [UInt8](repeating: 0, count: 62)
        #expect(Array(quote.quote[568..<632]) != padded)
        #expect(quote.reportData == padded)
    }

    @Test func quotesParseWithTheTDXTarget() async throws {
        let quote = try await DstackTestSupport.withSimulator { client, _ in try await client.getQuote(reportData: [9]) }
        let parsed = try TDXQuote(bytes: quote.quote)
        #expect(parsed.version == 4)
        #expect(parsed.reportData == [9] + [UInt8](repeating: 0, count: 63))
    }

    @Test func missingFixturesFailAtBuildTime() throws {
        #expect(throws: DstackSimulatorError.self) {
            try DstackSimulatedEvidence(fixturesDirectory: "/nonexistent-fixtures", mode: .full)
        }
    }

    @Test func defaultFixturesDirectoryIsFoundFromThePackageRoot() throws {
        let fixtures = URL(fileURLWithPath: DstackTestSupport.fixturesDirectory()).standardized.path
        let fromWorkingDirectory = defaultDstackFixturesDirectory(
            executablePath: "/nonexistent/bin/x", currentDirectory: Fixtures.packageRoot.path)
        #expect(URL(fileURLWithPath: fromWorkingDirectory).standardized.path == fixtures)
        // A binary under `.build/…` of this package finds them from any working directory.
        let fromExecutable = defaultDstackFixturesDirectory(
            executablePath: Fixtures.packageRoot.appendingPathComponent(".build/debug/dstack-simulator").path,
            currentDirectory: "/nonexistent")
        #expect(URL(fileURLWithPath: fromExecutable).standardized.path == fixtures)
    }
}

@Suite("dstack simulator HTTP surface")
struct DstackSimulatorHTTPTests {
    private static func request(
        _ path: String, body: String, contentType: String? = "application/json"
    ) async throws -> (status: Int, contentType: String?, body: String) {
        try await DstackTestSupport.withSimulator { _, configuration in
            try await DstackTestSupport.rawRequest(
                socketPath: configuration.socketPath, path: path, body: body, contentType: contentType)
        }
    }

    @Test func reportDataLongerThan64BytesIs400() async throws {
        let answer = try await Self.request("/GetQuote", body: #"{"report_data":"\#(String(repeating: "ab", count: 65))"}"#)
        #expect(answer.status == 400)
        #expect(answer.body == #"{"error":"Report data is too long"}"#)
    }

    @Test func badHexIs400() async throws {
        let answer = try await Self.request("/GetQuote", body: #"{"report_data":"xyz"}"#)
        #expect(answer.status == 400)
        #expect(answer.body.contains(#""error""#))
    }

    @Test func missingJSONContentTypeIs400() async throws {
        let answer = try await Self.request("/Info", body: "{}", contentType: nil)
        #expect(answer.status == 400)
        #expect(answer.contentType == "application/json")
        #expect(answer.body.contains("application/json"))
    }

    @Test func unsupportedAlgorithmIs400() async throws {
        let answer = try await Self.request("/GetKey", body: #"{"path":"a","purpose":"b","algorithm":"p256"}"#)
        #expect(answer.status == 400)
        #expect(answer.body == #"{"error":"Unsupported algorithm: p256"}"#)
    }

    @Test func unknownMethodIsServiceNotFound() async throws {
        let answer = try await Self.request("/GetTlsKey", body: "{}")
        #expect(answer.status == 404)
        #expect(answer.body == #"{"error":"Service not found: GetTlsKey"}"#)
    }

    @Test func unmountedPathIsAPlain404() async throws {
        let answer = try await Self.request("/v1/Version", body: "{}")
        #expect(answer.status == 404)
        #expect(answer.contentType == "text/plain")
    }

    @Test func emitEventIsGone() async throws {
        let answer = try await Self.request("/EmitEvent", body: #"{"event":"x","payload":""}"#)
        #expect(answer.status == 400)
        #expect(answer.body.contains("EmitEvent was removed in dstack 0.6.0"))
    }

    @Test func v0AliasAndEmptyBodyWork() async throws {
        let answer = try await Self.request("/v0/Version", body: "")
        #expect(answer.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: String])
        #expect(object == ["version": "0.5.11-simulator", "rev": "simulator"])
    }

    @Test func malformedJSONIs400() async throws {
        let answer = try await Self.request("/GetKey", body: "{")
        #expect(answer.status == 400)
    }

    @Test func defaultAlgorithmIsSecp256k1() async throws {
        let answer = try await Self.request("/GetKey", body: #"{"path":"tiny/ecdsa-signing-key","purpose":"signing"}"#)
        #expect(answer.status == 200)
        #expect(answer.body.contains(DstackAgentClientTests.tinyECDSAKey))
    }
}
