import Testing

import SigningCrypto

@Suite("secp256k1")
struct Secp256k1Tests {
    /// Hardhat / Anvil account #0.
    static let hardhatKey = TestSupport.bytes("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")

    // MARK: Private keys

    @Test func privateKeyRoundTripsAndDerivesItsPublicKey() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey)
        #expect(key.rawRepresentation == Self.hardhatKey)
        #expect(key.publicKey.xy.count == 64)
        // Key 1 is the generator G.
        let one = try Secp256k1PrivateKey(rawRepresentation: TestSupport.scalar(1))
        #expect(
            Hex.encode(one.publicKey.compressed)
                == "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        )
        #expect(
            Hex.encode(one.publicKey.xy)
                == "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
                + "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8"
        )
    }

    @Test func acceptsTheLargestScalar() throws {
        let nMinusOne = TestSupport.subtract(TestSupport.order, TestSupport.scalar(1))
        let key = try Secp256k1PrivateKey(rawRepresentation: nMinusOne)
        // (n - 1)·G = -G: same x as G, odd y.
        #expect(
            Hex.encode(key.publicKey.compressed)
                == "0379be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
        )
    }

    @Test(arguments: [
        [UInt8](repeating: 0, count: 32),
        TestSupport.order,
        TestSupport.add(TestSupport.order, TestSupport.scalar(1)),
        [UInt8](repeating: 0xFF, count: 32),
    ])
    func rejectsScalarsOutOfRange(raw: [UInt8]) {
        #expect(throws: SigningCryptoError.invalidPrivateKey) { try Secp256k1PrivateKey(rawRepresentation: raw) }
    }

    @Test(arguments: [0, 1, 31, 33, 64])
    func rejectsWrongKeyLength(count: Int) {
        let raw = [UInt8](repeating: 0x11, count: count)
        #expect(throws: SigningCryptoError.invalidLength) { try Secp256k1PrivateKey(rawRepresentation: raw) }
    }

    @Test func randomKeysDiffer() {
        let keys = (0..<8).map { _ in Secp256k1PrivateKey.random().rawRepresentation }
        #expect(Set(keys.map { Hex.encode($0) }).count == keys.count)
    }

    @Test func errorDescriptionsCarryNoKeyMaterial() {
        let raw = [UInt8](repeating: 0xFF, count: 32)
        do {
            _ = try Secp256k1PrivateKey(rawRepresentation: raw)
            Issue.record("an out-of-range key was accepted")
        } catch {
            let text = "\(error) \(String(reflecting: error))"
            #expect(!text.lowercased().contains("ffff"))
            #expect(text.contains("invalid secp256k1 private key"))
        }
    }

    @Test func keyDescriptionsHideTheScalar() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey)
        var dumped = ""
        dump(key, to: &dumped)
        let secretHex = Hex.encode(Self.hardhatKey)
        for text in ["\(key)", String(reflecting: key), dumped] {
            #expect(!text.contains(secretHex))
            #expect(!text.contains("172, 9, 116"))  // the first bytes as a decimal array
            #expect(text.contains(Hex.encode(key.publicKey.compressed)) || text.contains("publicKey"))
        }
    }

    // MARK: Public keys

    @Test func publicKeyEncodingsRoundTrip() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey).publicKey
        #expect(key.compressed.count == 33)
        #expect(key.uncompressed.count == 65)
        #expect(key.uncompressed.first == 0x04)
        #expect(Array(key.uncompressed.dropFirst()) == key.xy)
        #expect(try Secp256k1PublicKey(sec1: key.compressed) == key)
        #expect(try Secp256k1PublicKey(sec1: key.uncompressed) == key)
        #expect(try Secp256k1PublicKey(sec1: key.compressed[...]) == key)
    }

    @Test func compressedPrefixFollowsParityOfY() throws {
        var sawEven = false
        var sawOdd = false
        for value in UInt8(1)...UInt8(16) {
            let key = try Secp256k1PrivateKey(rawRepresentation: TestSupport.scalar(value)).publicKey
            let odd = key.xy[63] & 1 == 1
            #expect(key.compressed[0] == (odd ? 0x03 : 0x02))
            sawEven = sawEven || !odd
            sawOdd = sawOdd || odd
        }
        #expect(sawEven && sawOdd)
    }

    @Test(arguments: [0, 32, 34, 64, 66])
    func rejectsWrongPointLength(count: Int) {
        let sec1 = [UInt8](repeating: 0x02, count: count)
        #expect(throws: SigningCryptoError.invalidLength) { try Secp256k1PublicKey(sec1: sec1) }
    }

    @Test func rejectsInvalidPoints() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey).publicKey
        var wrongPrefix = key.compressed
        wrongPrefix[0] = 0x04
        var hybrid = key.uncompressed
        hybrid[0] = 0x06 | (key.xy[63] & 1)  // libsecp256k1 parses hybrid points; SEC1 users must not
        var offCurve = key.uncompressed
        offCurve[64] ^= 0x01
        let xTooLarge = [0x02] + [UInt8](repeating: 0xFF, count: 32)
        for sec1 in [wrongPrefix, hybrid, offCurve, xTooLarge, [0x02] + TestSupport.scalar(0)] {
            #expect(throws: SigningCryptoError.invalidPublicKey) { try Secp256k1PublicKey(sec1: sec1) }
        }
    }

    // MARK: Signatures

    @Test func signAndRecoverRoundTrip() throws {
        for round in 0..<16 {
            let key = Secp256k1PrivateKey.random()
            let digest = Keccak256.hash(Array("message \(round)".utf8))
            let signature = try key.signRecoverable(digest: digest)
            #expect(signature.isLowS)
            #expect(signature.recoveryID <= 1)
            #expect(signature.r.count == 32 && signature.s.count == 32)
            #expect(try signature.recoverPublicKey(digest: digest) == key.publicKey)
            #expect(try Secp256k1RecoverableSignature(rsv: signature.rsv()) == signature)
            #expect(try Secp256k1RecoverableSignature(rsv: signature.rsv(vOffset: 27)) == signature)
            #expect(signature.rsv(vOffset: 27).last == signature.recoveryID + 27)
            #expect(Array(signature.rsv().prefix(64)) == signature.r + signature.s)
            // Another digest recovers to some other key, never to the signer.
            var other = digest
            other[0] ^= 1
            #expect((try? signature.recoverPublicKey(digest: other)) != key.publicKey)
        }
    }

    @Test func signingIsDeterministic() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey)
        let digest = [UInt8](repeating: 0x42, count: 32)
        #expect(try key.signRecoverable(digest: digest) == key.signRecoverable(digest: digest))
        #expect(try key.signRecoverable(digest: digest[...]) == key.signRecoverable(digest: digest))
    }

    @Test func flippedRecoveryIDRecoversAnotherKey() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey)
        let digest = Keccak256.hash(Array("flip".utf8))
        var rsv = try key.signRecoverable(digest: digest).rsv()
        rsv[64] ^= 1
        let flipped = try Secp256k1RecoverableSignature(rsv: rsv)
        #expect((try? flipped.recoverPublicKey(digest: digest)) != key.publicKey)
    }

    @Test func highSTwinIsRejected() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey)
        let digest = Keccak256.hash(Array("malleable".utf8))
        let signature = try key.signRecoverable(digest: digest)
        // (r, n - s) with the other recovery id is the same signature's malleable twin.
        let twinRSV = signature.r + TestSupport.subtract(TestSupport.order, signature.s) + [signature.recoveryID ^ 1]
        let twin = try Secp256k1RecoverableSignature(rsv: twinRSV)
        #expect(!twin.isLowS)
        #expect(throws: SigningCryptoError.highS) { try twin.recoverPublicKey(digest: digest) }
        #expect(throws: SigningCryptoError.highS) {
            try PersonalSign.recoverAddress(message: Array("x".utf8), signature: Hex.encode(twinRSV))
        }
    }

    @Test func lowSBoundaryIsHalfTheOrder() throws {
        let half = TestSupport.bytes("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0")
        #expect(TestSupport.add(TestSupport.add(half, half), TestSupport.scalar(1)) == TestSupport.order)
        let r = TestSupport.scalar(1)
        let atHalf = try Secp256k1RecoverableSignature(rsv: r + half + [0])
        let aboveHalf = try Secp256k1RecoverableSignature(rsv: r + TestSupport.add(half, TestSupport.scalar(1)) + [0])
        let one = try Secp256k1RecoverableSignature(rsv: r + TestSupport.scalar(1) + [0])
        #expect(atHalf.isLowS)
        #expect(!aboveHalf.isLowS)
        #expect(one.isLowS)
    }

    @Test(arguments: [2, 3, 26, 29, 35, 36, 255])
    func rejectsRecoveryIDs(v: UInt8) throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey)
        let rsv = try Array(key.signRecoverable(digest: [UInt8](repeating: 1, count: 32)).rsv().prefix(64)) + [v]
        #expect(throws: SigningCryptoError.invalidRecoveryID) { try Secp256k1RecoverableSignature(rsv: rsv) }
    }

    @Test(arguments: [0, 64, 66, 130])
    func rejectsWrongSignatureLength(count: Int) {
        let rsv = [UInt8](repeating: 0x01, count: count)
        #expect(throws: SigningCryptoError.invalidLength) { try Secp256k1RecoverableSignature(rsv: rsv) }
    }

    @Test func rejectsScalarsOutOfRangeInSignatures() {
        let one = TestSupport.scalar(1)
        let zero = TestSupport.scalar(0)
        for rs in [zero + one, one + zero, TestSupport.order + one, one + TestSupport.order] {
            #expect(throws: SigningCryptoError.invalidSignature) { try Secp256k1RecoverableSignature(rsv: rs + [0]) }
        }
    }

    @Test func rejectsDigestsThatAreNot32Bytes() throws {
        let key = try Secp256k1PrivateKey(rawRepresentation: Self.hardhatKey)
        let signature = try key.signRecoverable(digest: [UInt8](repeating: 7, count: 32))
        for count in [0, 31, 33, 64] {
            let digest = [UInt8](repeating: 7, count: count)
            #expect(throws: SigningCryptoError.invalidLength) { try key.signRecoverable(digest: digest) }
            #expect(throws: SigningCryptoError.invalidLength) { try signature.recoverPublicKey(digest: digest) }
        }
    }

    @Test func recoveryFailsWhenRIsNoCurveXCoordinate() throws {
        // Find the smallest x for which no curve point exists, using point parsing as the oracle.
        var candidate: UInt8 = 1
        while (try? Secp256k1PublicKey(sec1: [0x02] + TestSupport.scalar(candidate))) != nil {
            candidate += 1
        }
        let signature = try Secp256k1RecoverableSignature(rsv: TestSupport.scalar(candidate) + TestSupport.scalar(1) + [0])
        #expect(throws: SigningCryptoError.recoveryFailed) {
            try signature.recoverPublicKey(digest: [UInt8](repeating: 9, count: 32))
        }
    }
}
