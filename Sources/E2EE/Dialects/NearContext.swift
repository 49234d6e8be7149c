/// A request in NEAR's dialect (nearai/inference-proxy v1 and v2), parsed and checked.
///
/// Rules from NEAR's `src/encryption.rs`: `X-Signing-Algo` and `X-Client-Pub-Key` together; algo `ecdsa` or
/// `ed25519`; the client key hex, 32 bytes (ed25519) or 64/65 (ecdsa); `X-Encryption-Version` 1 or 2;
/// `X-Encrypt-All-Fields: true` (any case) widens the field set. `X-Model-Pub-Key` is ignored; no AAD, no replay.
/// An empty field stays empty both ways. Every fault is NEAR's `bad_request`.
package struct NearContext: Sendable {
    package let algo: SigningAlgo
    /// 1 or 2.
    package let version: Int
    package let encryptAllFields: Bool
    /// The key answers are sealed to (ed25519 keys in Montgomery form).
    let clientKey: E2EEPublicKey
    private let keys: E2EEServerKeys
    /// The v1 ed25519 answer's box: XSalsa20, what NEAR's published clients open (NaClBox explains).
    package var v1BoxVariant: NaClBox.Variant = .xSalsa20Poly1305

    package static let family = E2EEError.Family.near

    package init(headers: E2EEHeaders, version: Int, keys: E2EEServerKeys) throws(E2EEError) {
        guard let algoHeader = headers.signingAlgo, let client = headers.clientPublicKey else {
            throw .headerMissing(.near)
        }
        guard let algo = SigningAlgo(header: algoHeader), keys.supports(algo) else {
            throw .invalidSigningAlgo(.near)
        }
        guard let clientBytes = FieldHex.decode(client, allowPrefix: false) else { throw .invalidPublicKey(.near) }
        do {
            switch algo {
            case .ecdsa: self.clientKey = try .secp256k1(raw: clientBytes)
            case .ed25519: self.clientKey = .x25519(try Ed25519Montgomery.x25519PublicKey(ed25519: clientBytes))
            }
        } catch {
            throw .invalidPublicKey(.near)
        }
        guard version == 1 || version == 2 else { throw .invalidVersion(.near) }
        self.algo = algo
        self.version = version
        self.encryptAllFields = headers.encryptAllFields?.trimmed.lowercased() == "true"
        self.keys = keys
    }

    /// Decrypts one request field (any of the fields NEAR covers; none is bound to its place).
    package func decryptField(_ hex: String) throws(E2EEError) -> String {
        if hex.isEmpty { return "" }
        guard let blob = FieldHex.decode(hex, allowPrefix: false) else { throw .malformedField(.near) }
        let plaintext: [UInt8]
        do {
            switch (self.algo, self.version) {
            case (.ecdsa, _):
                guard let secret = self.keys.ecdsa else { throw CipherFailure.invalidSecretKey }
                plaintext = try HybridSuite.legacyECDSA.open(blob, recipient: .secp256k1(secret))
            case (.ed25519, 1):
                guard let secret = self.keys.x25519Secret else { throw CipherFailure.invalidSecretKey }
                plaintext = try NaClBox.open(blob, secret: secret)
            case (.ed25519, _):
                guard let secret = self.keys.x25519 else { throw CipherFailure.invalidSecretKey }
                plaintext = try HybridSuite.nearEd25519V2.open(blob, recipient: secret)
            }
        } catch {
            throw .decryptionFailed(.near)
        }
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw .invalidPlaintext(.near) }
        return text
    }

    /// Encrypts one answer field, with a fresh ephemeral key per field as NEAR does.
    package func encryptField(_ plaintext: String) throws(E2EEError) -> String {
        if plaintext.isEmpty { return "" }
        let sealed: [UInt8]
        do {
            switch (self.algo, self.version, self.clientKey) {
            case (.ed25519, 1, .x25519(let recipient)):
                sealed = try NaClBox.seal(plaintext.utf8, to: recipient, variant: self.v1BoxVariant)
            case (.ed25519, _, _):
                sealed = try HybridSuite.nearEd25519V2.seal(plaintext.utf8, to: self.clientKey)
            case (.ecdsa, _, _):
                sealed = try HybridSuite.legacyECDSA.seal(plaintext.utf8, to: self.clientKey)
            }
        } catch {
            throw .invalidPublicKey(.near)
        }
        return FieldHex.encode(sealed)
    }
}
