import Testing

@testable import E2EE

/// Every malformed-input class gets its own error, in the refusing dialect's vocabulary.
@Suite struct BadInputTests {
    let keys: TestKeys

    init() throws { self.keys = try TestKeys() }

    func dv(_ algo: SigningAlgo, v2: Bool = true) throws -> DVContext {
        guard case .dv(let dv) = try self.keys.context(self.keys.dvHeaders(algo, v2: v2)) else { throw E2EEError.headerMissing(.dv) }
        return dv
    }

    func aci(_ suite: ACIKey.Suite) throws -> ACIContext {
        guard case .aci(let aci) = try self.keys.context(self.keys.aciHeaders(suite)) else { throw E2EEError.headerMissing(.aci) }
        return aci
    }

    func expectError(_ expected: E2EEError, type: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(expected.type == type, sourceLocation: sourceLocation)
        #expect(throws: expected, sourceLocation: sourceLocation) { try body() }
    }

    // MARK: Ciphertext

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519])
    func tamperedCiphertext(algo: SigningAlgo) throws {
        let dv = try self.dv(algo)
        let aad = dv.requestAAD(model: "m", messageIndex: 0, contentIndex: nil)
        var bytes = [UInt8](hex: try self.keys.dvClientSeal("secret", algo, aad: aad))
        for position in [bytes.count - 1, bytes.count - 20, (algo == .ecdsa ? 65 : 32) + 1] {
            bytes[position] ^= 0x01
            self.expectError(.decryptionFailed(.dv), type: "e2ee_decryption_failed") {
                _ = try dv.decryptRequestField(bytes.hex, model: "m", messageIndex: 0, contentIndex: nil)
            }
            bytes[position] ^= 0x01
        }
        #expect(try dv.decryptRequestField(bytes.hex, model: "m", messageIndex: 0, contentIndex: nil) == "secret")
    }

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519])
    func wrongAAD(algo: SigningAlgo) throws {
        let dv = try self.dv(algo)
        let field = try self.keys.dvClientSeal("secret", algo, aad: dv.requestAAD(model: "m", messageIndex: 0, contentIndex: nil))
        // Another message, another part, another model: each moves the ciphertext and fails.
        for (model, message, content) in [("m", 1, nil), ("m", 0, 0), ("M", 0, nil)] as [(String, Int, Int?)] {
            self.expectError(.decryptionFailed(.dv), type: "e2ee_decryption_failed") {
                _ = try dv.decryptRequestField(field, model: model, messageIndex: message, contentIndex: content)
            }
        }
        // v1 has no AAD: a v2 field does not open as v1.
        let v1 = try self.dv(algo, v2: false)
        self.expectError(.decryptionFailed(.dv), type: "e2ee_decryption_failed") {
            _ = try v1.decryptRequestField(field, model: "m", messageIndex: 0, contentIndex: nil)
        }
    }

    @Test func aciWrongFieldPath() throws {
        let aci = try self.aci(.x25519)
        let to = try E2EEPublicKey.x25519(raw: [UInt8](hex: self.keys.world.aci_x25519_public))
        let field = try HybridSuite.aciX25519.seal(Array("p".utf8), to: to, aad: aci.requestAAD(model: "m", field: "messages.0.content")).hex
        #expect(try aci.decryptRequestField("0x" + field, model: "m", field: "messages.0.content") == "p")
        self.expectError(.decryptionFailed(.aci), type: "e2ee_decryption_failed") {
            _ = try aci.decryptRequestField(field, model: "m", field: "messages.1.content")
        }
        // Sealed with the other suite's info for the same key type: refused, never reinterpreted.
        let legacy = try HybridSuite.dvEd25519.seal(Array("p".utf8), to: to, aad: aci.requestAAD(model: "m", field: "prompt")).hex
        #expect(throws: E2EEError.decryptionFailed(.aci)) { try aci.decryptRequestField(legacy, model: "m", field: "prompt") }
    }

    @Test(arguments: ["", "zz", "abc", "0x00", " 00", "ＡＢ"])
    func malformedHexField(text: String) throws {
        let dv = try self.dv(.ecdsa)
        self.expectError(.malformedField(.dv), type: "invalid_e2ee_request") {
            _ = try dv.decryptRequestField(text, model: "m", messageIndex: 0, contentIndex: nil)
        }
        let near = try #require(try self.nearContext(.ed25519, version: 2))
        if !text.isEmpty {
            self.expectError(.malformedField(.near), type: "bad_request") { _ = try near.decryptField(text) }
        }
        self.expectError(.decryptionFailed(.aci), type: "e2ee_decryption_failed") {
            _ = try self.aci(.secp256k1).decryptRequestField(text, model: "m", field: "prompt")
        }
    }

    @Test func shortFieldAndBadEphemeralKey() throws {
        let dv = try self.dv(.ecdsa)
        let short = String(repeating: "04", count: 92)  // one byte under the 93 an ecdsa field needs
        #expect(throws: E2EEError.decryptionFailed(.dv)) { try dv.decryptRequestField(short, model: "m", messageIndex: 0, contentIndex: nil) }
        let offCurve = "04" + String(repeating: "11", count: 64 + 12 + 16)
        self.expectError(.malformedField(.dv), type: "invalid_e2ee_request") {
            _ = try dv.decryptRequestField(offCurve, model: "m", messageIndex: 0, contentIndex: nil)
        }
        // A small-order X25519 ephemeral key (all zero) makes the shared secret zero: refused.
        let ed = try self.dv(.ed25519)
        #expect(throws: E2EEError.malformedField(.dv)) {
            try ed.decryptRequestField(String(repeating: "00", count: 32 + 12 + 16), model: "m", messageIndex: 0, contentIndex: nil)
        }
        #expect(throws: E2EEError.decryptionFailed(.near)) { try self.nearContext(.ed25519, version: 1)?.decryptField(String(repeating: "00", count: 80)) }
        self.expectError(.unsupportedEndpoint(.dv), type: "invalid_e2ee_request") { throw E2EEError.unsupportedEndpoint(.dv) }
    }

    @Test func invalidUTF8Plaintext() throws {
        let dv = try self.dv(.ed25519, v2: false)
        let field = try HybridSuite.dvEd25519.seal(
            [0xFF, 0xFE], to: .x25519(raw: [UInt8](hex: self.keys.world.server_x25519_public))).hex
        self.expectError(.invalidPlaintext(.dv), type: "invalid_e2ee_request") {
            _ = try dv.decryptRequestField(field, model: "", messageIndex: 0, contentIndex: nil)
        }
    }

    // MARK: Keys

    @Test(arguments: [SigningAlgo.ecdsa, .ed25519])
    func wrongModelKey(algo: SigningAlgo) throws {
        // The other server's key in X-Model-Pub-Key.
        self.expectError(.modelKeyMismatch(.dv), type: "e2ee_model_key_mismatch") {
            _ = try self.keys.context(self.keys.dvHeaders(algo, v2: true), keys: self.keys.other)
        }
        // A client that encrypted to another key (NEAR ignores X-Model-Pub-Key): the field does not open.
        let near = try #require(try self.nearContext(algo, version: 1, keys: self.keys.other))
        let field = try self.keys.dvClientSeal("p", algo)
        #expect(throws: E2EEError.decryptionFailed(.near)) { try near.decryptField(field) }
        var aciHeaders = self.keys.aciHeaders(.x25519)
        aciHeaders.modelPublicKey = self.keys.world.client_x25519_public
        self.expectError(.modelKeyMismatch(.aci), type: "e2ee_model_key_mismatch") { _ = try self.keys.context(aciHeaders) }
    }

    @Test func invalidPublicKeys() throws {
        var headers = self.keys.dvHeaders(.ecdsa, v2: true)
        headers.clientPublicKey = "04" + String(repeating: "11", count: 64)  // not on the curve
        self.expectError(.invalidPublicKey(.dv), type: "e2ee_invalid_public_key") { _ = try self.keys.context(headers) }
        headers.clientPublicKey = "not hex"
        #expect(throws: E2EEError.invalidPublicKey(.dv)) { try self.keys.context(headers) }
        headers = self.keys.dvHeaders(.ed25519, v2: false)
        headers.clientPublicKey = String(repeating: "00", count: 31)
        #expect(throws: E2EEError.invalidPublicKey(.dv)) { try self.keys.context(headers) }
        let near = E2EEHeaders(signingAlgo: "ecdsa", clientPublicKey: String(repeating: "ab", count: 33))
        #expect(throws: E2EEError.invalidPublicKey(.near)) { try self.keys.context(near) }
        var smallOrder = self.keys.aciHeaders(.x25519)
        smallOrder.clientPublicKey = "01" + String(repeating: "00", count: 31)  // u = 1, order 4
        self.expectError(.invalidPublicKey(.aci), type: "e2ee_invalid_public_key") { _ = try self.keys.context(smallOrder) }
        var aci = self.keys.aciHeaders(.secp256k1)
        aci.clientPublicKey = self.keys.world.aci_client_x25519_public  // an X25519 key for the secp256k1 suite
        #expect(throws: E2EEError.invalidPublicKey(.aci)) { try self.keys.context(aci) }
        let algo = E2EEHeaders(signingAlgo: "rsa", clientPublicKey: "00", modelPublicKey: "00")
        #expect(throws: E2EEError.invalidSigningAlgo(.dv)) { try self.keys.context(algo.with(\.e2eeVersion, "1")) }
        #expect(throws: E2EEError.invalidSigningAlgo(.near)) { try self.keys.context(E2EEHeaders(signingAlgo: "rsa", clientPublicKey: "00")) }
    }

    // MARK: Nonce, timestamp, replay

    @Test func replayedNonce() async throws {
        let store = InMemoryReplayCache()
        let dv = try self.dv(.ecdsa)
        try await dv.claimNonce(now: self.keys.now, store: store)
        await #expect(throws: E2EEError.replayDetected(.dv)) { try await dv.claimNonce(now: self.keys.now + 10, store: store) }
        // The same nonce under the other algo is another tuple.
        try await self.dv(.ed25519).claimNonce(now: self.keys.now, store: store)
        let aci = try self.aci(.x25519)
        try await aci.claimNonce(now: self.keys.now, store: store)
        // The nonce in the other hex case is the same nonce.
        let upper = try #require(try self.keys.context(self.keys.aciHeaders(.x25519, nonce: self.keys.world.aci_nonce.uppercased())))
        guard case .aci(let again) = upper else { Issue.record("not ACI"); return }
        await #expect(throws: E2EEError.replayDetected(.aci)) { try await again.claimNonce(now: self.keys.now, store: store) }
        #expect(E2EEError.replayDetected(.aci).type == "e2ee_replay_detected")
    }

    @Test func staleTimestamp() async throws {
        let dv = try self.dv(.ecdsa)
        await #expect(throws: E2EEError.invalidTimestamp(.dv)) { try await dv.claimNonce(now: self.keys.now + 301, store: InMemoryReplayCache()) }
        await #expect(throws: E2EEError.invalidTimestamp(.dv)) { try await dv.claimNonce(now: self.keys.now - 301, store: InMemoryReplayCache()) }
        try await dv.claimNonce(now: self.keys.now + 300, store: InMemoryReplayCache())
        self.expectError(.invalidTimestamp(.aci), type: "e2ee_invalid_timestamp") {
            _ = try self.keys.context(self.keys.aciHeaders(.x25519), now: self.keys.now + 301)
        }
        for bad in ["-5", "1.5", "soon", "１２"] {
            #expect(throws: E2EEError.invalidTimestamp(.aci)) {
                try self.keys.context(self.keys.aciHeaders(.x25519).with(\.timestamp, bad))
            }
        }
        #expect(throws: E2EEError.invalidTimestamp(.dv)) { try self.keys.context(self.keys.dvHeaders(.ecdsa, v2: true).with(\.timestamp, "soon")) }
    }

    @Test func invalidNonces() throws {
        #expect(throws: E2EEError.invalidNonce(.dv)) { try self.keys.context(self.keys.dvHeaders(.ecdsa, v2: true, nonce: "short")) }
        for bad in [String(repeating: "a", count: 63), String(repeating: "g", count: 64), "0x" + String(repeating: "a", count: 62)] {
            self.expectError(.invalidNonce(.aci), type: "e2ee_invalid_nonce") {
                _ = try self.keys.context(self.keys.aciHeaders(.x25519, nonce: bad))
            }
        }
    }

    // MARK: Headers

    @Test func missingAndMixedHeaders() throws {
        let dv = self.keys.dvHeaders(.ecdsa, v2: true)
        self.expectError(.headerMissing(.dv), type: "e2ee_header_missing") { _ = try self.keys.context(dv.with(\.timestamp, nil)) }
        #expect(throws: E2EEError.headerMissing(.dv)) { try self.keys.context(dv.with(\.nonce, nil).with(\.e2eeVersion, nil)) }
        #expect(throws: E2EEError.headerMissing(.dv)) { try self.keys.context(dv.with(\.modelPublicKey, nil)) }
        self.expectError(.mixedHeaders(.dv), type: "invalid_e2ee_request") {
            _ = try self.keys.context(dv.with(\.encryptionVersion, "2"))
        }
        #expect(throws: E2EEError.invalidVersion(.dv)) { try self.keys.context(self.keys.dvHeaders(.ecdsa, v2: false).with(\.e2eeVersion, "3")) }
        let aci = self.keys.aciHeaders(.x25519)
        #expect(throws: E2EEError.mixedHeaders(.aci)) { try self.keys.context(aci.with(\.encryptAllFields, "true")) }
        #expect(throws: E2EEError.headerMissing(.aci)) { try self.keys.context(aci.with(\.nonce, nil)) }
        #expect(throws: E2EEError.headerMissing(.aci)) { try self.keys.context(aci.with(\.e2eeVersion, nil)) }
        #expect(throws: E2EEError.invalidVersion(.aci)) { try self.keys.context(aci.with(\.e2eeVersion, "1")) }
        self.expectError(.headerMissing(.near), type: "bad_request") { _ = try self.keys.context(E2EEHeaders(encryptionVersion: "2")) }
        #expect(throws: E2EEError.headerMissing(.near)) { try self.keys.context(E2EEHeaders(signingAlgo: "ecdsa")) }
        #expect(throws: E2EEError.invalidVersion(.near)) {
            try self.keys.context(E2EEHeaders(signingAlgo: "ecdsa", clientPublicKey: self.keys.world.client_ecdsa_public, encryptionVersion: "3"))
        }
    }

    @Test func errorMessagesCarryNoInput() {
        let errors: [E2EEError] = [
            .headerMissing(.near), .decryptionFailed(.dv), .invalidPublicKey(.aci), .replayCapacity(.dv), .mixedHeaders(.aci),
            .invalidPayloadModel(.aci), .unsupportedEndpoint(.aci),
        ]
        for error in errors {
            #expect(!error.message.isEmpty)
            #expect(error.status == 400)
        }
        #expect(E2EEError.invalidPayloadModel(.aci).type == "e2ee_invalid_payload_model")
        #expect(E2EEError.unsupportedEndpoint(.aci).type == "e2ee_unsupported_endpoint")
    }

    func nearContext(_ algo: SigningAlgo, version: Int, keys: E2EEServerKeys? = nil) throws -> NearContext? {
        let headers = E2EEHeaders(
            signingAlgo: algo.rawValue,
            clientPublicKey: algo == .ecdsa ? self.keys.world.client_ecdsa_public : self.keys.world.client_ed25519_public,
            encryptionVersion: String(version))
        guard case .near(let near) = try self.keys.context(headers, keys: keys) else { return nil }
        return near
    }
}

extension E2EEHeaders {
    func with(_ path: WritableKeyPath<Self, String?>, _ value: String?) -> Self {
        var copy = self
        copy[keyPath: path] = value
        return copy
    }
}
