import Crypto
import Foundation
import Testing

import SigningCrypto
import TestFixtures

/// The pure-crypto parts of dstack's v0 key derivation and signature chain.
@Suite("dstack key chain")
struct DstackChainTests {
    /// HKDF-SHA256 with salt "RATLS", as the guest agent derives keys.
    static func deriveKey(root: [UInt8], path: String) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: root),
            salt: Array("RATLS".utf8),
            info: Array(path.utf8),
            outputByteCount: 32
        )
        return key.withUnsafeBytes { Array($0) }
    }

    /// Link 0's digest: keccak256(utf8(purpose + ":" + lowercase hex of the public key)).
    static func linkZeroDigest(purpose: String, publicKey: [UInt8]) -> [UInt8] {
        Keccak256.hash(Array((purpose + ":" + Hex.encode(publicKey)).utf8))
    }

    static let simulatorAppID = "5bb4ff9a3837357f19dc176407a5709c62eb6c56"
    static let simulatorKMSRoot = "0321529e458424ab1f710a3a57ec4dad2fb195ddca572f7469242ba6c7563085b6"

    struct AppKeys: Decodable {
        let k256Key: String
        let k256Signature: String

        enum CodingKeys: String, CodingKey {
            case k256Key = "k256_key"
            case k256Signature = "k256_signature"
        }
    }

    static func simulatorAppKeys() throws -> AppKeys {
        try JSONDecoder().decode(AppKeys.self, from: Data(try Fixtures.bytes("dstack/appkeys.json")))
    }

    @Test func pinnedVector() throws {
        let root = try Secp256k1PrivateKey(
            rawRepresentation: TestSupport.bytes("1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b")
        )
        let derived = Self.deriveKey(root: root.rawRepresentation, path: "test")
        #expect(Hex.encode(derived) == "52786aa123b0971e283af97f32e25767483d099d66e6c40afeb3a49046b5379e")
        let key = try Secp256k1PrivateKey(rawRepresentation: derived)
        #expect(Hex.encode(key.publicKey.compressed) == "02ead9e0064aad1bb151c270c78ef82a4caf6d3fc92c311804e79751deb3476919")

        let digest = Self.linkZeroDigest(purpose: "signing", publicKey: key.publicKey.compressed)
        let linkZero = try root.signRecoverable(digest: digest)
        #expect(
            Hex.encode(linkZero.rsv())
                == "c8a3dcf06c4e95bd78a5d7a1c8fcff171fc5848cfae804c6fc11bda4dc5d4062379995390843827444992c4c0e4bac70f0f878e01b9fc8b98cd7126fe5a3876b01"
        )
        #expect(try linkZero.recoverPublicKey(digest: digest) == root.publicKey)
    }

    @Test func simulatorLinkOneRecoversTheKMSRoot() throws {
        let appKeys = try Self.simulatorAppKeys()
        let appRoot = try Secp256k1PrivateKey(rawRepresentation: Hex.decode(appKeys.k256Key))
        #expect(Hex.encode(appRoot.publicKey.compressed) == "02818494263695e8839122dbd88e281d7380622999df4e60a14befa0f2d096fc7c")

        let linkOne = try Secp256k1RecoverableSignature(rsv: Hex.decode(appKeys.k256Signature))
        #expect(linkOne.recoveryID == 0)
        let digest = Keccak256.hash(
            Array("dstack-kms-issued:".utf8) + TestSupport.bytes(Self.simulatorAppID) + appRoot.publicKey.compressed
        )
        let kmsRoot = try linkOne.recoverPublicKey(digest: digest)
        #expect(Hex.encode(kmsRoot.compressed) == Self.simulatorKMSRoot)

        // Another app id must not lead to the same KMS key.
        var otherID = TestSupport.bytes(Self.simulatorAppID)
        otherID[19] ^= 1
        let otherDigest = Keccak256.hash(Array("dstack-kms-issued:".utf8) + otherID + appRoot.publicKey.compressed)
        #expect((try? linkOne.recoverPublicKey(digest: otherDigest))?.compressed != kmsRoot.compressed)
    }

    @Test func simulatorSigningKeys() throws {
        let appKeys = try Self.simulatorAppKeys()
        let appRoot = try Secp256k1PrivateKey(rawRepresentation: Hex.decode(appKeys.k256Key))

        let ecdsaSeed = Self.deriveKey(root: appRoot.rawRepresentation, path: "tiny/ecdsa-signing-key")
        #expect(Hex.encode(ecdsaSeed) == "f5a9f436830b1fce8112b1267a45521020b0f220e336553079308c0c47760765")
        let ecdsa = try Secp256k1PrivateKey(rawRepresentation: ecdsaSeed)
        #expect(Hex.encode(ecdsa.publicKey.compressed) == "025a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8")
        let ecdsaLink = try appRoot.signRecoverable(
            digest: Self.linkZeroDigest(purpose: "signing", publicKey: ecdsa.publicKey.compressed)
        )
        #expect(
            Hex.encode(ecdsaLink.rsv())
                == "809854ace6ef4dc48c5c8edc6f2946254ceebb798773ba8a1659dd76ca3fcace517b14311b7b88509a99bf5dacfecc6c0018470011acbd5ebb8c48f059357f1200"
        )

        let edSeed = Self.deriveKey(root: appRoot.rawRepresentation, path: "tiny/ed25519-signing-key")
        #expect(Hex.encode(edSeed) == "b1bd5bf3207b1feadc6ec9f82747905f00d00be9e0628c8b4e6f449ac96b66bf")
        let ed = try Curve25519.Signing.PrivateKey(rawRepresentation: edSeed)
        let edPublic = Array(ed.publicKey.rawRepresentation)
        #expect(Hex.encode(edPublic) == "763b714f70ece323e9bc5894a0113e16192938c11af32a9b8043ee0402416b31")
        let edLink = try appRoot.signRecoverable(digest: Self.linkZeroDigest(purpose: "signing", publicKey: edPublic))
        #expect(
            Hex.encode(edLink.rsv())
                == "a23a71fcc5c9a056970b68e94c2a3649aee9b234cca095d5b9c6c8e6fc6998315367a61c4a04efd5c7cd5ea45b0c1cb4006577e09c2a9a615d25e6eab85fc61e00"
        )
    }

    @Test func derivationIsFlatAndPathSensitive() {
        let root = [UInt8](repeating: 0x11, count: 32)
        let a = Self.deriveKey(root: root, path: "a")
        #expect(a != Self.deriveKey(root: root, path: "a/b"))
        #expect(a != Self.deriveKey(root: root, path: ""))
        #expect(a == Self.deriveKey(root: root, path: "a"))
    }
}
