import Foundation
import SigningContract
import SigningCrypto
import TestFixtures
import Testing

@Suite("dstack key chain digests")
struct DstackKeyChainTests {
    /// The simulator fixture's KMS link (appkeys.json) recovers the pinned KMS root over the app's claim.
    @Test("link 1 of the fixture recovers the simulator's KMS root key")
    func fixtureLinkOne() throws {
        struct AppKeys: Decodable {
            var k256Key: String
            var k256Signature: String
            enum CodingKeys: String, CodingKey {
                case k256Key = "k256_key"
                case k256Signature = "k256_signature"
            }
        }
        let keys = try JSONDecoder().decode(AppKeys.self, from: Data(try Fixtures.bytes("dstack/appkeys.json")))
        let root = try Secp256k1PrivateKey(rawRepresentation: Hex.decode(keys.k256Key))
        let digest = DstackKeyChain.kmsClaimDigest(
            appID: try Hex.decode("5bb4ff9a3837357f19dc176407a5709c62eb6c56"), appRootPublicKey: root.publicKey)
        let kms = try #require(DstackKeyChain.recoverSigner(link: try Hex.decode(keys.k256Signature), digest: digest))
        #expect(Hex.encode(kms.compressed) == "0321529e458424ab1f710a3a57ec4dad2fb195ddca572f7469242ba6c7563085b6")
    }

    @Test("link 0 signs keccak256(purpose:hex(key)); a wrong purpose, a high S, a short link recover nothing useful")
    func linkZero() throws {
        let root = try Secp256k1PrivateKey(rawRepresentation: [UInt8](repeating: 0x11, count: 32))
        let key = [UInt8](repeating: 0x22, count: 32)
        let digest = DstackKeyChain.keyClaimDigest(purpose: "signing", publicKey: key)
        #expect(digest == Keccak256.hash(Array(("signing:" + String(repeating: "22", count: 32)).utf8)))
        let link = try root.signRecoverable(digest: digest).rsv(vOffset: 0)
        #expect(DstackKeyChain.recoverSigner(link: link, digest: digest) == root.publicKey)
        let other = DstackKeyChain.keyClaimDigest(purpose: "other", publicKey: key)
        #expect(DstackKeyChain.recoverSigner(link: link, digest: other) != root.publicKey)
        #expect(DstackKeyChain.recoverSigner(link: link.dropLast(), digest: digest) == nil)
        var badV = link
        badV[64] = 5
        #expect(DstackKeyChain.recoverSigner(link: badV, digest: digest) == nil)
        // s' = n - s: the same signature in high-S form is refused.
        let order: [UInt8] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
            0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
        ]
        var highS = link
        var borrow = 0
        for index in (0..<32).reversed() {
            let value = Int(order[index]) - Int(link[32 + index]) - borrow
            highS[32 + index] = UInt8((value + 256) % 256)
            borrow = value < 0 ? 1 : 0
        }
        highS[64] ^= 1
        #expect(DstackKeyChain.recoverSigner(link: highS, digest: digest) == nil)
    }
}
