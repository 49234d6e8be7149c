import Testing

@testable import E2EE

/// Each suite and dialect sealing and opening its own fields (the Python vectors prove the formats; these
/// cover the paths with random ephemeral keys and nonces, and the constructions Python does not have).
@Suite struct RoundTripTests {
    let keys: TestKeys

    init() throws { self.keys = try TestKeys() }

    @Test(arguments: [HybridSuite.legacyECDSA, .dvEd25519, .nearEd25519V2, .aciX25519, .aciSecp256k1])
    func suiteRoundTrip(suite: HybridSuite) throws {
        let recipient = E2EESecretKey.random(suite.curve)
        for text in ["", "x", String(repeating: "long text é ", count: 1000)] {
            let sealed = try suite.seal(Array(text.utf8), to: recipient.publicKey, aad: Array("aad".utf8))
            #expect(sealed.count == text.utf8.count + suite.overhead)
            #expect(try suite.open(sealed, recipient: recipient, aad: Array("aad".utf8)) == Array(text.utf8))
        }
    }

    @Test(arguments: [NaClBox.Variant.xSalsa20Poly1305, .xChaCha20Poly1305])
    func naclBoxRoundTrip(variant: NaClBox.Variant) throws {
        let secret = [UInt8](hex: self.keys.world.server_x25519_secret)
        let sealed = try NaClBox.seal(Array("box".utf8), to: [UInt8](hex: self.keys.world.server_x25519_public), variant: variant)
        #expect(try NaClBox.open(sealed, secret: secret) == Array("box".utf8))
    }

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519], [false, true])
    func dvRequestAndAnswer(algo: SigningAlgo, v2: Bool) async throws {
        guard case .dv(let dv) = try self.keys.context(self.keys.dvHeaders(algo, v2: v2)) else {
            Issue.record("not DV"); return
        }
        let model = self.keys.world.model
        let field = try self.keys.dvClientSeal(
            "prompt", algo, aad: dv.requestAAD(model: model, messageIndex: 2, contentIndex: 0))
        #expect(try dv.decryptRequestField(field, model: model, messageIndex: 2, contentIndex: 0) == "prompt")
        try await dv.claimNonce(now: self.keys.now, store: InMemoryReplayCache())

        // Two answer fields share one ephemeral key (DV) with distinct nonces.
        let first = [UInt8](hex: try dv.encryptResponseField("answer", model: "m", id: "id", choice: 1, field: "content"))
        let second = [UInt8](hex: try dv.encryptResponseField("answer", model: "m", id: "id", choice: 1, field: "content"))
        let keyLength = algo == .ecdsa ? 65 : 32
        #expect(first.prefix(keyLength) == second.prefix(keyLength))
        #expect(first != second)
        let aad = dv.responseAAD(model: "m", id: "id", choice: 1, field: "content")
        #expect(aad.isEmpty == !v2)
        let suite: HybridSuite = algo == .ecdsa ? .legacyECDSA : .dvEd25519
        #expect(try suite.open(first, recipient: self.keys.clientSecret(algo), aad: aad) == Array("answer".utf8))
        let headers = Dictionary(uniqueKeysWithValues: dv.responseHeaders.map { ($0.name, $0.value) })
        #expect(headers == ["X-E2EE-Applied": "true", "X-E2EE-Version": v2 ? "2" : "1",
                            "X-E2EE-Algo": algo.rawValue, "X-E2EE-Alg": algo.rawValue])
    }

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519], [1, 2])
    func nearAnswers(algo: SigningAlgo, version: Int) throws {
        let headers = E2EEHeaders(
            signingAlgo: algo.rawValue.uppercased(),
            clientPublicKey: algo == .ecdsa ? String(self.keys.world.client_ecdsa_public.dropFirst(2)) : self.keys.world.client_ed25519_public,
            encryptionVersion: String(version), encryptAllFields: "TRUE")
        guard case .near(let near) = try self.keys.context(headers) else { Issue.record("not NEAR"); return }
        #expect(near.encryptAllFields)
        #expect(try near.encryptField("") == "")
        #expect(try near.decryptField("") == "")
        let first = [UInt8](hex: try near.encryptField("answer"))
        let second = [UInt8](hex: try near.encryptField("answer"))
        #expect(first.prefix(32) != second.prefix(32))  // a fresh ephemeral key per field
        let opened: [UInt8] =
            switch (algo, version) {
            case (.ecdsa, _): try HybridSuite.legacyECDSA.open(first, recipient: self.keys.clientSecret(.ecdsa))
            case (.ed25519, 1): try NaClBox.open(first, secret: [UInt8](hex: self.keys.world.client_x25519_secret))
            default: try HybridSuite.nearEd25519V2.open(first, recipient: self.keys.clientX25519)
            }
        #expect(opened == Array("answer".utf8))
    }

    @Test(arguments: [ACIKey.Suite.x25519, .secp256k1])
    func aciAnswer(suite: ACIKey.Suite) async throws {
        guard case .aci(let aci) = try self.keys.context(self.keys.aciHeaders(suite)) else {
            Issue.record("not ACI"); return
        }
        #expect(aci.key.suite == suite)
        try await aci.claimNonce(now: self.keys.now, store: InMemoryReplayCache())
        let sealed = [UInt8](hex: try aci.encryptResponseField("[1,2]", model: "m", id: "r", field: "data.0.embedding"))
        let secret = suite == .x25519 ? self.keys.aciClientX25519 : .secp256k1(self.keys.clientECDSA)
        let opened = try suite.cipher.open(sealed, recipient: secret, aad: aci.responseAAD(model: "m", id: "r", field: "data.0.embedding"))
        #expect(opened == Array("[1,2]".utf8))
        #expect(aci.responseHeaders.last?.value == suite.rawValue)
    }

    @Test func plaintextRequestHasNoContext() throws {
        #expect(try self.keys.context(E2EEHeaders([("Content-Type", "application/json"), ("X-E2EE-Version", "  ")])) == nil)
    }
}
