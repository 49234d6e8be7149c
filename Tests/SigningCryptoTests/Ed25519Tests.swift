import Crypto
import Testing

import SigningCrypto

/// Ed25519 through swift-crypto with the RFC 8032 vectors and the signed-text reference vector (the project
/// signs with it directly).
@Suite("Ed25519 vectors")
struct Ed25519Tests {
    @Test(arguments: [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "19761afc09646c33c12f5bfb04a392aba46aaafa36e5da1cecb56cf30f9353d017f4b8bfdea1dec9ea1b26f3ef11c6c219b464b1509e8a4767993c1195abce0a"
        ),
        (
            "b1bd5bf3207b1feadc6ec9f82747905f00d00be9e0628c8b4e6f449ac96b66bf",
            "763b714f70ece323e9bc5894a0113e16192938c11af32a9b8043ee0402416b31",
            "d7958713f25a1010d9aeb9ad61cf7b2cfe5342a6abd93057af2a6222d2e13e95dbf4548c5ca472cc7cd5a21ec96eb5260393098b96f41bc47ec26458992ef60c"
        ),
    ])
    func signsTextT(seed: String, publicKey: String, signature: String) throws {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: TestSupport.bytes(seed))
        #expect(Hex.encode(key.publicKey.rawRepresentation) == publicKey)
        let message = Array(EthereumTests.textA.utf8)
        #expect(key.publicKey.isValidSignature(TestSupport.bytes(signature), for: message))
        #if !canImport(Darwin)
        // BoringSSL signs deterministically (RFC 8032); Apple's CryptoKit adds randomness.
        #expect(try Hex.encode(key.signature(for: message)) == signature)
        #endif
        var tampered = message
        tampered[0] ^= 1
        #expect(!key.publicKey.isValidSignature(TestSupport.bytes(signature), for: tampered))
    }

    @Test func rfc8032TestOneEmptyMessage() throws {
        // RFC 8032 §7.1 TEST 1 proper: the empty message.
        let key = try Curve25519.Signing.PrivateKey(
            rawRepresentation: TestSupport.bytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
        )
        let expected = TestSupport.bytes(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        )
        #expect(key.publicKey.isValidSignature(expected, for: [UInt8]()))
    }
}
