import SigningCrypto

/// The client side of each dialect: the headers to send, request fields sealed to the server's key, answer
/// fields opened with the client's. What `signing-proxy verify chat --e2ee` and an agent in another CVM need.
///
/// AAD comes from `E2EEAAD` (empty for DV v1 and NEAR, which bind none).
package struct E2EEClient: Sendable {
    package enum Dialect: Hashable, Sendable {
        case dv(version: Int)
        case near(version: Int)
        case aci(ACIKey.Suite)
    }

    package let dialect: Dialect
    /// The DV/NEAR algorithm (`ecdsa` for ACI's secp256k1 suite, `ed25519` for its x25519 suite: unused there).
    package let algo: SigningAlgo
    /// The key request fields are sealed to (ed25519 server keys in Montgomery form).
    private let serverKey: E2EEPublicKey
    private let serverKeyHeader: String
    /// The client's agreement secret, and its X25519 bytes where a NaCl box needs them.
    private let secret: E2EESecretKey
    private let x25519Secret: [UInt8]?
    private let clientKeyHeader: String
    /// DV v2 and ACI: `X-E2EE-Nonce` and `X-E2EE-Timestamp`.
    package let nonce: String?
    package let timestamp: Int64?

    /// A DV or NEAR client.
    ///
    /// - Parameters:
    ///   - serverPublicKeyHex: the report's `signing_public_key` (64-byte secp256k1 `x‖y`, or the raw ed25519 key).
    ///   - clientSecp256k1: the client's key for `ecdsa`; `clientEd25519Seed` its seed for `ed25519`.
    ///   - nonce, timestamp: DV v2 only (the nonce at least 16 characters).
    package init(
        dialect: Dialect, algo: SigningAlgo, serverPublicKeyHex: String, clientSecp256k1: Secp256k1PrivateKey? = nil,
        clientEd25519Seed: [UInt8]? = nil, nonce: String? = nil, timestamp: Int64? = nil
    ) throws(CipherFailure) {
        guard let serverBytes = FieldHex.decode(serverPublicKeyHex, allowPrefix: false) else { throw .invalidPublicKey }
        switch algo {
        case .ecdsa:
            guard let clientSecp256k1 else { throw .invalidSecretKey }
            self.serverKey = try .secp256k1(raw: serverBytes)
            self.secret = .secp256k1(clientSecp256k1)
            self.x25519Secret = nil
            self.clientKeyHeader = FieldHex.encode(clientSecp256k1.publicKey.xy)
        case .ed25519:
            guard let clientEd25519Seed else { throw .invalidSecretKey }
            self.serverKey = .x25519(try Ed25519Montgomery.x25519PublicKey(ed25519: serverBytes))
            let x25519 = try Ed25519Montgomery.x25519SecretKey(ed25519Seed: clientEd25519Seed)
            self.secret = try .x25519(raw: x25519)
            self.x25519Secret = x25519
            self.clientKeyHeader = FieldHex.encode(try Ed25519Montgomery.ed25519PublicKey(seed: clientEd25519Seed))
        }
        self.dialect = dialect
        self.algo = algo
        self.serverKeyHeader = serverPublicKeyHex
        self.nonce = nonce
        self.timestamp = timestamp
    }

    /// An ACI v2 client for the keyset entry `serverPublicKeyHex` of `suite`; `nonce` is 64 hex.
    package init(
        aci suite: ACIKey.Suite, serverPublicKeyHex: String, clientSecret: E2EESecretKey, nonce: String, timestamp: Int64
    ) throws(CipherFailure) {
        guard let server = suite.parse(serverPublicKeyHex), clientSecret.curve == suite.cipher.curve else {
            throw .invalidPublicKey
        }
        self.dialect = .aci(suite)
        self.algo = suite == .secp256k1 ? .ecdsa : .ed25519
        self.serverKey = server.key
        self.serverKeyHeader = serverPublicKeyHex
        self.secret = clientSecret
        self.x25519Secret = nil
        self.clientKeyHeader = FieldHex.encode(clientSecret.publicKey.fieldEncoding)
        self.nonce = nonce
        self.timestamp = timestamp
    }

    /// The request headers of this dialect.
    package var headers: [(String, String)] {
        var headers: [(String, String)] = [("X-Client-Pub-Key", self.clientKeyHeader), ("X-Model-Pub-Key", self.serverKeyHeader)]
        switch self.dialect {
        case .dv(let version):
            headers.append(("X-Signing-Algo", self.algo.rawValue))
            headers.append(("X-E2EE-Version", String(version)))
        case .near(let version):
            headers.append(("X-Signing-Algo", self.algo.rawValue))
            headers.append(("X-Encryption-Version", String(version)))
        case .aci:
            headers.append(("X-E2EE-Version", "2"))
        }
        if let nonce = self.nonce, let timestamp = self.timestamp {
            headers.append(("X-E2EE-Nonce", nonce))
            headers.append(("X-E2EE-Timestamp", String(timestamp)))
        }
        return headers
    }

    /// Seals one request field (a fresh ephemeral key per field, as every dialect's clients do).
    package func sealRequestField(_ text: String, aad: [UInt8] = []) throws(CipherFailure) -> String {
        let sealed: [UInt8]
        switch (self.dialect, self.algo, self.serverKey) {
        case (.near(1), .ed25519, .x25519(let server)): sealed = try NaClBox.seal(text.utf8, to: server)
        default: sealed = try self.suite.seal(text.utf8, to: self.serverKey, aad: aad)
        }
        return FieldHex.encode(sealed)
    }

    /// Opens one answer field.
    package func openResponseField(_ hex: String, aad: [UInt8] = []) throws(CipherFailure) -> String {
        guard let blob = FieldHex.decode(hex, allowPrefix: true) else { throw .malformed }
        let plaintext: [UInt8]
        switch (self.dialect, self.algo, self.x25519Secret) {
        case (.near(1), .ed25519, .some(let secret)): plaintext = try NaClBox.open(blob, secret: secret)
        default: plaintext = try self.suite.open(blob, recipient: self.secret, aad: aad)
        }
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw .malformed }
        return text
    }

    private var suite: HybridSuite {
        switch (self.dialect, self.algo) {
        case (.aci(let suite), _): suite.cipher
        case (_, .ecdsa): .legacyECDSA
        case (.near(let version), .ed25519) where version >= 2: .nearEd25519V2
        case (_, .ed25519): .dvEd25519
        }
    }
}
