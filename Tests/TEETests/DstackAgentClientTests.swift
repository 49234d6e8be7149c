import DstackSimulator
import Foundation
import Testing

@testable import TEE

@Suite("DstackAgentClient against the in-process simulator")
struct DstackAgentClientTests {
    static let tinyECDSAKey = "f5a9f436830b1fce8112b1267a45521020b0f220e336553079308c0c47760765"
    static let tinyECDSALink0 =
        "809854ace6ef4dc48c5c8edc6f2946254ceebb798773ba8a1659dd76ca3fcace517b14311b7b88509a99bf5dacfecc6c0018470011acbd5ebb8c48f059357f1200"
    static let kmsLink =
        "9e618603e72d01fedb82deff6daf2d62a572becf0059eec3f89c1ab40e1f2e594d2a283f843f34e8f39e4cc49a612496ce67223a12ac923f8efe330346dfc6c500"

    @Test func versionAnswers() async throws {
        let version = try await DstackTestSupport.withSimulator { client, _ in try await client.version() }
        #expect(version == DstackVersion(version: "0.5.11-simulator", rev: "simulator"))
    }

    @Test func versionIsNilOnAnAgentWithoutIt() async throws {
        let version = try await DstackTestSupport.withSimulator(configure: { $0.missingMethods = ["Version"] }) { client, _ in
            try await client.version()
        }
        #expect(version == nil)
    }

    @Test func getKeyReturnsTheDerivedKeyAndChain() async throws {
        let key = try await DstackTestSupport.withSimulator { client, _ in
            try await client.getKey(path: "tiny/ecdsa-signing-key", purpose: "signing", algorithm: "secp256k1")
        }
        #expect(DstackTestSupport.hex(key.key) == Self.tinyECDSAKey)
        #expect(key.signatureChain.map { DstackTestSupport.hex($0) } == [Self.tinyECDSALink0, Self.kmsLink])
    }

    @Test func getKeySurfacesTheAgentErrorMessage() async throws {
        await #expect {
            try await DstackTestSupport.withSimulator { client, _ in
                try await client.getKey(path: "x", purpose: "signing", algorithm: "secp256k1_prehashed")
            }
        } throws: { error in
            guard let error = error as? DstackAgentError else { return false }
            return error.httpStatus == 400 && error.description.contains("Unsupported algorithm")
        }
    }

    @Test func getQuotePadsReportDataIntoTheQuote() async throws {
        let reportData: [UInt8] = [0x12, 0x34, 0xab]
        let quote = try await DstackTestSupport.withSimulator { client, _ in
            try await client.getQuote(reportData: reportData)
        }
        let padded = reportData + [UInt8](repeating: 0, count: 61)
        #expect(Array(quote.quote[568..<632]) == padded)
        #expect(quote.reportData == padded)
        #expect(try DstackTestSupport.hex(quote.quoteHex) == quote.quote)
        #expect(quote.eventLog.hasPrefix("["))
        #expect(quote.vmConfig?.contains("os_image_hash") == true)
    }

    @Test func getQuoteRejectsMoreThan64BytesLocally() async throws {
        await #expect(throws: DstackAgentError.self) {
            try await DstackTestSupport.withSimulator { client, _ in
                try await client.getQuote(reportData: [UInt8](repeating: 1, count: 65))
            }
        }
    }

    @Test func infoDecodesIdentityAndBuildsTheReportObject() async throws {
        let appCompose = try DstackTestSupport.fixture("app-compose.json")
        let info = try await DstackTestSupport.withSimulator { client, _ in try await client.info() }
        #expect(info.appID == "5bb4ff9a3837357f19dc176407a5709c62eb6c56")
        #expect(info.instanceID == "1691ed1b47506cad7d08834668691d88246f5b1f")
        #expect(info.composeHash == DstackTestSupport.hex(DstackTestSupport.sha256(appCompose)))
        #expect(info.appCompose.map { Array($0.utf8) } == appCompose)

        let raw = try #require(try JSONSerialization.jsonObject(with: Data(info.raw)) as? [String: Any])
        #expect(raw["tcb_info"] is String)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(info.reportObjectJSON)) as? [String: Any])
        let tcb = try #require(object["tcb_info"] as? [String: Any])
        #expect(tcb["app_compose"] as? String == info.appCompose)
        #expect((tcb["event_log"] as? [Any])?.count == 33)
        #expect(object["app_id"] as? String == info.appID)
        #expect(object["key_provider_info"] as? String == raw["key_provider_info"] as? String)
        #expect(Set(object.keys) == Set(raw.keys))
    }

    @Test func aMethodFailingWith400IsAStatusError() async throws {
        await #expect {
            try await DstackTestSupport.withSimulator(configure: { $0.failingMethods = ["Info"] }) { client, _ in
                try await client.info()
            }
        } throws: { error in
            (error as? DstackAgentError)?.httpStatus == 400
        }
    }

    @Test func aMissingMethodIsA404StatusError() async throws {
        await #expect {
            try await DstackTestSupport.withSimulator(configure: { $0.missingMethods = ["GetQuote"] }) { client, _ in
                try await client.getQuote(reportData: [1])
            }
        } throws: { error in
            guard let error = error as? DstackAgentError else { return false }
            return error.isNotFound && error.description.contains("Service not found: GetQuote")
        }
    }

    @Test func aMissingSocketIsAConnectError() async throws {
        try await DstackTestSupport.withTemporaryDirectory { directory in
            let client = DstackAgentClient(
                endpoint: .unixSocket(path: directory + "/absent.sock"), logger: DstackTestSupport.logger)
            await #expect {
                try await client.version()
            } throws: { error in
                guard let error = error as? DstackAgentError else { return false }
                return error.isUnreachable && error.description.contains("cannot connect")
            }
        }
    }

    @Test func aRefusedConnectionIsAConnectError() async throws {
        try await DstackTestSupport.withTemporaryDirectory { directory in
            let path = directory + "/refusing.sock"
            try await DstackTestSupport.withSilentSocket(at: path, listening: false) {
                let client = DstackAgentClient(endpoint: .unixSocket(path: path), logger: DstackTestSupport.logger)
                await #expect {
                    try await client.info()
                } throws: { error in
                    guard let error = error as? DstackAgentError else { return false }
                    return error.isUnreachable && error.description.contains("cannot connect")
                }
            }
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await DstackTestSupport.withTemporaryDirectory { directory in
            let path = directory + "/silent.sock"
            try await DstackTestSupport.withSilentSocket(at: path) {
                let client = DstackAgentClient(
                    endpoint: .unixSocket(path: path), callTimeout: .milliseconds(300), quoteTimeout: .milliseconds(300),
                    logger: DstackTestSupport.logger)
                await #expect {
                    try await client.getQuote(reportData: [1, 2, 3])
                } throws: { error in
                    guard let error = error as? DstackAgentError else { return false }
                    return error.isUnreachable && error.description.contains("timed out")
                }
            }
        }
    }

    @Test func aSlowAgentTimesOut() async throws {
        await #expect {
            try await DstackTestSupport.withSimulator(
                callTimeout: .milliseconds(200), configure: { $0.delay = .milliseconds(1500) }
            ) { client, _ in
                try await client.version()
            }
        } throws: { error in
            (error as? DstackAgentError)?.description.contains("timed out") == true
        }
    }
}

@Suite("Agent answers the client must reject")
struct DstackAgentDecodingTests {
    @Test(arguments: [
        "not json",
        "{}",
        #"{"key": 5, "signature_chain": []}"#,
        "[1,2]",
    ])
    func malformedGetKeyJSON(body: String) {
        #expect(throws: DstackAgentError.self) {
            try DstackWireFormat.decode(DstackWireFormat.GetKeyResponse.self, from: Array(body.utf8), method: "GetKey")
        }
    }

    @Test(arguments: ["zz", "abc", "0x0g", "12 34"])
    func badHex(text: String) {
        #expect(throws: DstackAgentError.self) {
            try DstackWireFormat.hex(text, field: "key", method: "GetKey")
        }
    }

    @Test func hexAcceptsAnOptionalPrefixAndEitherCase() throws {
        #expect(try DstackWireFormat.hex("0xABcd", field: "key", method: "GetKey") == [0xab, 0xcd])
        #expect(try DstackWireFormat.hex("", field: "key", method: "GetKey") == [])
    }

    @Test func reportObjectLeavesABlankTCBInfoAlone() throws {
        let body = Array(#"{"app_id":"aa","tcb_info":""}"#.utf8)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(try DstackWireFormat.reportObject(fromInfo: body))) as? [String: Any])
        #expect(object["tcb_info"] as? String == "")
        #expect(object["app_id"] as? String == "aa")
    }

    @Test func reportObjectRejectsANonObject() {
        #expect(throws: DstackAgentError.self) { try DstackWireFormat.reportObject(fromInfo: Array("[]".utf8)) }
        #expect(throws: DstackAgentError.self) { try DstackWireFormat.reportObject(fromInfo: Array("{".utf8)) }
    }
}

@Suite("Endpoint discovery, as the dstack SDKs do it")
struct DstackEndpointTests {
    @Test func explicitValueWins() throws {
        let endpoint = try DstackEndpoint.resolve(
            explicit: "/custom.sock", environment: ["DSTACK_SIMULATOR_ENDPOINT": "http://ignored"],
            fileExists: { $0 == "/custom.sock" })
        #expect(endpoint == .unixSocket(path: "/custom.sock"))
    }

    @Test func environmentComesNext() throws {
        let endpoint = try DstackEndpoint.resolve(
            explicit: "", environment: ["DSTACK_SIMULATOR_ENDPOINT": "http://127.0.0.1:8090/"], fileExists: { _ in true })
        #expect(endpoint == .http(baseURL: "http://127.0.0.1:8090"))
    }

    @Test func defaultSocketsAreProbedInOrder() throws {
        let endpoint = try DstackEndpoint.resolve(
            explicit: nil, environment: [:],
            fileExists: { $0 == "/run/dstack/dstack.sock" || $0 == "/var/run/dstack/dstack.sock" })
        #expect(endpoint == .unixSocket(path: "/var/run/dstack/dstack.sock"))
    }

    @Test func nothingFoundIsAClearError() {
        #expect {
            try DstackEndpoint.resolve(explicit: nil, environment: [:], fileExists: { _ in false })
        } throws: { error in
            let text = String(describing: error)
            return text.contains("/var/run/dstack.sock") && text.contains("DEV=1")
        }
    }

    @Test func aConfiguredSocketMustExist() {
        #expect(throws: DstackAgentError.self) {
            try DstackEndpoint.resolve(
                explicit: nil, environment: ["DSTACK_SIMULATOR_ENDPOINT": "/nope.sock"], fileExists: { _ in false })
        }
    }

    @Test func httpsIsABaseURL() throws {
        #expect(try DstackEndpoint.parse("HTTPS://agent.local", fileExists: { _ in false }) == .http(baseURL: "HTTPS://agent.local"))
    }
}
