import Testing

import SigningCrypto

@Suite("Ethereum address and personal_sign")
struct EthereumTests {
    /// Signed text T (format `plain`) of the reference vector: SHA-256 of the 141-byte chat request and of
    /// `Fixtures/vllm/chat-stream.body` (reproduced with independent implementations).
    static let textA =
        "5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538"

    // MARK: Addresses

    @Test func hardhatAccountZero() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Secp256k1Tests.hardhatKey)
        let address = EthereumAddress(publicKey: key.publicKey)
        #expect(address.checksummed == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
        #expect(address.description == address.checksummed)
        #expect(address.bytes.count == 20)
    }

    /// EIP-55's own examples: mixed case, all upper case and all lower case.
    @Test(arguments: [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
    ])
    func eip55Checksum(expected: String) throws {
        let lowercase = expected.lowercased()
        #expect(try EthereumAddress(string: lowercase).checksummed == expected)
        #expect(try EthereumAddress(string: lowercase.dropFirst(2)).checksummed == expected)
        #expect(try EthereumAddress(string: expected.uppercased().replacingOccurrences(of: "0X", with: "0x")).checksummed == expected)
    }

    @Test func addressEqualityIgnoresCase() throws {
        let a = try EthereumAddress(string: "0xF39FD6E51AAD88F6F4CE6AB8827279CFFFB92266")
        let b = try EthereumAddress(string: "f39fd6e51aad88f6f4ce6ab8827279cfffb92266")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
    }

    @Test(arguments: ["", "0x", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb922", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb9226600"])
    func rejectsWrongAddressLength(string: String) {
        #expect(throws: SigningCryptoError.invalidLength) { try EthereumAddress(string: string) }
    }

    @Test(arguments: ["0xf39Fd6e51aad88F6F4ce6aB8827279cffFb9226", "0xg39Fd6e51aad88F6F4ce6aB8827279cffFb92266"])
    func rejectsBadAddressHex(string: String) {
        #expect(throws: SigningCryptoError.invalidHex) { try EthereumAddress(string: string) }
    }

    // MARK: personal_sign (EIP-191, docs/API.md, Signatures)

    @Test func eip191Digest() {
        let digest = PersonalSign.digest(message: Array(Self.textA.utf8))
        #expect(Hex.encode(digest) == "1e3f95460737b13d66ff26d864b86d469a52d18928bd0133514676f4e3db3df5")
        // The same bytes as the prefix spelled out by hand.
        let spelled = Array("\u{19}Ethereum Signed Message:\n129".utf8) + Array(Self.textA.utf8)
        #expect(digest == Keccak256.hash(spelled))
    }

    @Test(arguments: [
        (
            textA,
            "0xdd181f26da45d3db6f8b88bff3af8213499cea485974d32225978eb5555e89707741b90e5eb674c9b304dda6ff9029f82cc7178475b5ef1c2cb8716a6e28289c1b"
        ),
        (
            "tiny:" + textA,
            "0xad58e656e299aa313b8a527a1d0ce329c32d4c2bbba252191d4372b9df290a4f7addb326881b1231523660180b69c028c690b773ef10dcd2a74fd29f7f7563c71c"
        ),
    ])
    func hardhatSignatures(text: String, expected: String) throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Secp256k1Tests.hardhatKey)
        let message = Array(text.utf8)
        #expect(try PersonalSign.sign(message: message, with: key) == expected)
        let recovered = try PersonalSign.recoverAddress(message: message, signature: expected)
        #expect(recovered.checksummed == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266")
    }

    @Test func simulatorKeySignature() throws {
        // tiny/ecdsa-signing-key derived from the simulator's app root key (`Fixtures/dstack/appkeys.json`).
        let key = try Secp256k1PrivateKey(
            rawRepresentation: TestSupport.bytes("f5a9f436830b1fce8112b1267a45521020b0f220e336553079308c0c47760765")
        )
        #expect(EthereumAddress(publicKey: key.publicKey).checksummed == "0xB6A9f297c41c48a978eDD2f9Ba48c355aE418FA4")
        #expect(
            Hex.encode(key.publicKey.xy)
                == "5a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8ae95f736d70fc7199233d141c97904dca0400f18ffef8dd6126b59d54620cf0c"
        )
        #expect(
            try PersonalSign.sign(message: Array(Self.textA.utf8), with: key)
                == "0x2bd9e5304ce15225c6221afc61990d78a805bc59da8a44c97cc027fa19f349c43f8174d506a7997de2d2a09e9d97ce67a1a2fd1d44508113c7d15d2404be41521b"
        )
    }

    @Test func recoverAcceptsEveryVEncoding() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Secp256k1Tests.hardhatKey)
        let message = Array(Self.textA.utf8)
        let signature = try key.signRecoverable(digest: PersonalSign.digest(message: message))
        let expected = EthereumAddress(publicKey: key.publicKey)
        for offset: UInt8 in [0, 27] {
            let hex = Hex.encode(signature.rsv(vOffset: offset))
            #expect(try PersonalSign.recoverAddress(message: message, signature: hex) == expected)
            #expect(try PersonalSign.recoverAddress(message: message, signature: "0x" + hex) == expected)
            #expect(try PersonalSign.recoverAddress(message: message, signature: "0X" + hex.uppercased()) == expected)
        }
    }

    @Test func recoverWithAnotherMessageGivesAnotherAddress() throws {
        let key = Secp256k1PrivateKey.random()
        let signature = try PersonalSign.sign(message: Array("one".utf8), with: key)
        #expect(try PersonalSign.recoverAddress(message: Array("one".utf8), signature: signature) == EthereumAddress(publicKey: key.publicKey))
        #expect((try? PersonalSign.recoverAddress(message: Array("two".utf8), signature: signature)) != EthereumAddress(publicKey: key.publicKey))
    }

    @Test func recoverRejectsMalformedSignatures() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Secp256k1Tests.hardhatKey)
        let message = Array("m".utf8)
        let good = try PersonalSign.sign(message: message, with: key)
        #expect(throws: SigningCryptoError.invalidHex) { try PersonalSign.recoverAddress(message: message, signature: good + "0") }
        #expect(throws: SigningCryptoError.invalidHex) {
            try PersonalSign.recoverAddress(message: message, signature: String(good.dropLast()) + "z")
        }
        #expect(throws: SigningCryptoError.invalidLength) {
            try PersonalSign.recoverAddress(message: message, signature: String(good.dropLast(2)))
        }
        #expect(throws: SigningCryptoError.invalidLength) { try PersonalSign.recoverAddress(message: message, signature: "") }
        for v in ["02", "1d", "25"] {
            #expect(throws: SigningCryptoError.invalidRecoveryID) {
                try PersonalSign.recoverAddress(message: message, signature: String(good.dropLast(2)) + v)
            }
        }
    }
}
