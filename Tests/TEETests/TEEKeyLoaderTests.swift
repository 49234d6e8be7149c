import Crypto
import DstackSimulator
import Foundation
import SigningCore
import SigningCrypto
import Testing

@testable import TEE

/// Wraps a real agent and rewrites its answers, to check that the loader rejects bad chains.
struct TamperingAgent: DstackAgent {
    var base: any DstackAgent
    var key: @Sendable (_ path: String, DstackKey) -> DstackKey = { $1 }
    var infoOverride: DstackInfo?

    func version() async throws -> DstackVersion? { try await base.version() }

    func getKey(path: String, purpose: String, algorithm: String) async throws -> DstackKey {
        key(path, try await base.getKey(path: path, purpose: purpose, algorithm: algorithm))
    }

    func getQuote(reportData: [UInt8]) async throws -> DstackQuote { try await base.getQuote(reportData: reportData) }

    func info() async throws -> DstackInfo {
        if let infoOverride { return infoOverride }
        return try await base.info()
    }
}

@Suite("TEEKeyLoader: both keys from the agent, chains checked")
struct TEEKeyLoaderTests {
    static let address = "0xB6A9f297c41c48a978eDD2f9Ba48c355aE418FA4"
    static let ecdsaPublic = "025a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8"
    static let ecdsaXY =
        "5a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8ae95f736d70fc7199233d141c97904dca0400f18ffef8dd6126b59d54620cf0c"
    static let ed25519Public = "763b714f70ece323e9bc5894a0113e16192938c11af32a9b8043ee0402416b31"
    static let ed25519Link0 =
        "a23a71fcc5c9a056970b68e94c2a3649aee9b234cca095d5b9c6c8e6fc6998315367a61c4a04efd5c7cd5ea45b0c1cb4006577e09c2a9a615d25e6eab85fc61e00"
    static let appID = "5bb4ff9a3837357f19dc176407a5709c62eb6c56"

    @Test func derivesTheDocumentedKeysForTiny() async throws {
        let (keys, info) = try await DstackTestSupport.withSimulator { client, _ in
            try await TEEKeyLoader.load(agent: client, modelName: "tiny", logger: DstackTestSupport.logger)
        }
        #expect(keys.origin == .tee)
        #expect(keys.ecdsaAddress.checksummed == Self.address)
        #expect(keys.ecdsaPublicKeyHex == Self.ecdsaXY)
        #expect(keys.ed25519PublicKeyHex == Self.ed25519Public)
        #expect(info.appID == Self.appID)

        let ecdsa = try #require(keys.ecdsaProvenance)
        #expect(ecdsa.path == "tiny/ecdsa-signing-key")
        #expect(ecdsa.purpose == "signing")
        #expect(ecdsa.algorithm == "secp256k1")
        #expect(ecdsa.publicKey == Self.ecdsaPublic)
        #expect(ecdsa.signatureChain == [DstackAgentClientTests.tinyECDSALink0, DstackAgentClientTests.kmsLink])
        #expect(ecdsa.appID == Self.appID)

        let ed25519 = try #require(keys.ed25519Provenance)
        #expect(ed25519.path == "tiny/ed25519-signing-key")
        #expect(ed25519.algorithm == "ed25519")
        #expect(ed25519.publicKey == Self.ed25519Public)
        #expect(ed25519.signatureChain == [Self.ed25519Link0, DstackAgentClientTests.kmsLink])
        #expect(ed25519.appID == Self.appID)
    }

    @Test func restartsKeepTheAddress() async throws {
        let first = try await DstackTestSupport.withSimulator { client, _ in
            try await TEEKeyLoader.load(agent: client, modelName: "tiny", logger: DstackTestSupport.logger).keys.ecdsaAddress
        }
        let second = try await DstackTestSupport.withSimulator { client, _ in
            try await TEEKeyLoader.load(agent: client, modelName: "tiny", logger: DstackTestSupport.logger).keys.ecdsaAddress
        }
        #expect(first == second)
        #expect(first.checksummed == Self.address)
    }

    @Test func aModelNameWithSlashesIsUsedVerbatim() async throws {
        let keys = try await DstackTestSupport.withSimulator { client, _ in
            try await TEEKeyLoader.load(agent: client, modelName: "org/model", logger: DstackTestSupport.logger).keys
        }
        let issuer = try DstackKeyIssuer(appKeysJSON: DstackTestSupport.fixture("appkeys.json"))
        let expected = try Secp256k1PrivateKey(rawRepresentation: issuer.derive(path: "org/model/ecdsa-signing-key"))
        #expect(keys.ecdsaAddress == EthereumAddress(publicKey: expected.publicKey))
        #expect(keys.ecdsaAddress.checksummed != Self.address)
    }

    @Test func anAgentWithoutVersionIsAccepted() async throws {
        let keys = try await DstackTestSupport.withSimulator(configure: { $0.missingMethods = ["Version"] }) { client, _ in
            try await TEEKeyLoader.load(agent: client, modelName: "tiny", logger: DstackTestSupport.logger).keys
        }
        #expect(keys.ecdsaAddress.checksummed == Self.address)
    }

    @Test func anAgentIgnoringAlgorithmKeepsTheKeyWithoutEd25519Provenance() async throws {
        let keys = try await DstackTestSupport.withSimulator(configure: { $0.ignoresAlgorithm = true }) { client, _ in
            try await TEEKeyLoader.load(agent: client, modelName: "tiny", logger: DstackTestSupport.logger).keys
        }
        #expect(keys.ed25519PublicKeyHex == Self.ed25519Public)
        #expect(keys.ed25519Provenance == nil)
        #expect(keys.ecdsaProvenance?.publicKey == Self.ecdsaPublic)
    }

    // MARK: Rejections

    private static func expectRejected(
        _ description: String,
        key: @escaping @Sendable (String, DstackKey) -> DstackKey = { $1 },
        info: DstackInfo? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await DstackTestSupport.withSimulator { client, _ in
            let agent = TamperingAgent(base: client, key: key, infoOverride: info)
            await #expect(sourceLocation: sourceLocation) {
                try await TEEKeyLoader.load(agent: agent, modelName: "tiny", logger: DstackTestSupport.logger)
            } throws: { error in
                error is TEEKeyLoaderError && String(describing: error).contains(description)
            }
        }
    }

    @Test func aTamperedLink0IsRejected() async throws {
        // Depending on the byte, recovery fails or yields another root: both are chain failures.
        try await Self.expectRejected("signature chain does not verify") { path, key in
            guard path.hasSuffix("ecdsa-signing-key") else { return key }
            var key = key
            key.signatureChain[0][5] ^= 0x01
            return key
        }
    }

    @Test func anEd25519LinkFromAnotherKeyIsRejected() async throws {
        try await Self.expectRejected("recover different app root keys") { path, key in
            guard path.hasSuffix("ed25519-signing-key") else { return key }
            var key = key
            let issuer = try? DstackKeyIssuer(appKeysJSON: DstackTestSupport.fixture("appkeys.json"))
            if let other = try? issuer?.issue(path: "other", purpose: "signing", algorithm: .ed25519) {
                key.signatureChain[0] = other.chain[0]
            }
            return key
        }
    }

    @Test func aKeyFromAnotherPathIsRejected() async throws {
        // The chain certifies the agent's key; a substituted key no longer matches link 0.
        try await Self.expectRejected("recover different app root keys") { path, key in
            guard path.hasSuffix("ecdsa-signing-key") else { return key }
            var key = key
            key.key[31] ^= 0x01
            return key
        }
    }

    @Test func anInvalidKMSLinkIsRejected() async throws {
        try await Self.expectRejected("link 1 of tiny/ecdsa-signing-key") { path, key in
            guard path.hasSuffix("ecdsa-signing-key") else { return key }
            var key = key
            // r = 0 is never a valid signature.
            for index in 0..<32 { key.signatureChain[1][index] = 0 }
            return key
        }
    }

    @Test func differentKMSLinksAreRejected() async throws {
        try await Self.expectRejected("different KMS keys") { path, key in
            guard path.hasSuffix("ed25519-signing-key") else { return key }
            var key = key
            // A valid low-S signature by another key over the same claim.
            let other = Secp256k1PrivateKey.random()
            if let signature = try? other.signRecoverable(digest: Keccak256.hash(Array("unrelated".utf8))) {
                key.signatureChain[1] = signature.rsv()
            }
            return key
        }
    }

    @Test func aShortChainIsRejected() async throws {
        try await Self.expectRejected("chain links") { _, key in
            DstackKey(key: key.key, signatureChain: Array(key.signatureChain.prefix(1)))
        }
    }

    @Test func aShortKeyIsRejected() async throws {
        try await Self.expectRejected("expected 32") { _, key in
            DstackKey(key: Array(key.key.prefix(31)), signatureChain: key.signatureChain)
        }
    }

    @Test func infoWithoutAppIDIsRejected() async throws {
        let info = DstackInfo(
            raw: Array("{}".utf8), appID: nil, instanceID: nil, composeHash: nil, appCompose: nil,
            reportObjectJSON: Array("{}".utf8))
        try await Self.expectRejected("no usable app_id", info: info)
    }

    @Test func aWrongAppIDStillRecoversButNamesAnotherKMSKey() async throws {
        // The chain only proves the KMS issued the key to *some* app: with another app id link 1
        // recovers a different (meaningless) key, which the loader cannot detect without a pinned KMS key.
        let info = DstackInfo(
            raw: Array("{}".utf8), appID: String(repeating: "11", count: 20), instanceID: nil, composeHash: nil,
            appCompose: nil, reportObjectJSON: Array("{}".utf8))
        let keys = try await DstackTestSupport.withSimulator { client, _ in
            try await TEEKeyLoader.load(
                agent: TamperingAgent(base: client, infoOverride: info), modelName: "tiny", logger: DstackTestSupport.logger
            ).keys
        }
        #expect(keys.ecdsaProvenance?.appID == String(repeating: "11", count: 20))
    }

    @Test func anUnreachableAgentIsAnAgentError() async throws {
        try await DstackTestSupport.withTemporaryDirectory { directory in
            let client = DstackAgentClient(
                endpoint: .unixSocket(path: directory + "/absent.sock"), logger: DstackTestSupport.logger)
            await #expect {
                try await TEEKeyLoader.load(agent: client, modelName: "tiny", logger: DstackTestSupport.logger)
            } throws: { error in
                let text = String(describing: error)
                return error is TEEKeyLoaderError && text.contains("Version") && text.contains("DEV=1")
            }
        }
    }
}
