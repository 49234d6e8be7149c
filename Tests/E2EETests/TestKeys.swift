import SigningCrypto

@testable import E2EE

/// Keys for the socket-free tests: the Python vectors' world, plus a second server as the "wrong key".
struct TestKeys {
    let file: PythonVectors
    let server: E2EEServerKeys
    let other: E2EEServerKeys
    let keyset: [ACIKey]
    let clientECDSA: Secp256k1PrivateKey
    let clientEd25519Seed: [UInt8]
    let clientX25519: E2EESecretKey
    let aciClientX25519: E2EESecretKey
    let now: Int64

    init() throws {
        self.file = try PythonVectors.load()
        self.server = try self.file.serverKeys()
        self.other = try E2EEServerKeys(ecdsa: Secp256k1PrivateKey.random(), ed25519Seed: [UInt8](repeating: 7, count: 32))
        self.keyset = try self.file.aciKeyset()
        let world = self.file.world
        self.clientECDSA = try Secp256k1PrivateKey(rawRepresentation: [UInt8](hex: world.client_ecdsa_secret))
        self.clientEd25519Seed = [UInt8](hex: world.client_ed25519_seed)
        self.clientX25519 = try .x25519(raw: [UInt8](hex: world.client_x25519_secret))
        self.aciClientX25519 = try .x25519(raw: [UInt8](hex: world.aci_client_x25519_secret))
        self.now = world.timestamp
    }

    var world: PythonVectors.World { self.file.world }

    func dvHeaders(_ algo: SigningAlgo, v2: Bool, nonce: String? = nil, timestamp: Int64? = nil) -> E2EEHeaders {
        E2EEHeaders(
            signingAlgo: algo.rawValue,
            clientPublicKey: algo == .ecdsa ? self.world.client_ecdsa_public : self.world.client_ed25519_public,
            modelPublicKey: algo == .ecdsa ? self.world.server_ecdsa_public : self.world.server_ed25519_public,
            e2eeVersion: v2 ? "2" : "1",
            nonce: v2 ? (nonce ?? self.world.dv_nonce) : nil,
            timestamp: v2 ? String(timestamp ?? self.now) : nil
        )
    }

    func aciHeaders(_ suite: ACIKey.Suite, nonce: String? = nil, timestamp: Int64? = nil) -> E2EEHeaders {
        E2EEHeaders(
            clientPublicKey: suite == .x25519 ? self.world.aci_client_x25519_public : self.world.client_ecdsa_public,
            modelPublicKey: suite == .x25519 ? self.world.aci_x25519_public : self.world.server_ecdsa_public,
            e2eeVersion: "2", nonce: nonce ?? self.world.aci_nonce, timestamp: String(timestamp ?? self.now)
        )
    }

    func context(_ headers: E2EEHeaders, keys: E2EEServerKeys? = nil, now: Int64? = nil) throws -> E2EERequestContext? {
        try E2EERequestContext.parse(headers, keys: keys ?? self.server, keyset: self.keyset, now: now ?? self.now)
    }

    /// What a DV client sends: the field sealed to the server's key.
    func dvClientSeal(_ text: String, _ algo: SigningAlgo, aad: [UInt8] = []) throws -> String {
        let to: E2EEPublicKey =
            algo == .ecdsa
            ? try .secp256k1(raw: [UInt8](hex: self.world.server_ecdsa_public))
            : try .x25519(raw: [UInt8](hex: self.world.server_x25519_public))
        return try (algo == .ecdsa ? HybridSuite.legacyECDSA : .dvEd25519).seal(Array(text.utf8), to: to, aad: aad).hex
    }

    /// The client's secret for answers in `algo`.
    func clientSecret(_ algo: SigningAlgo) -> E2EESecretKey {
        algo == .ecdsa ? .secp256k1(self.clientECDSA) : self.clientX25519
    }
}
