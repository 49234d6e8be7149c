import Foundation
import SigningCrypto
import TestFixtures

@testable import E2EE

/// `Fixtures/e2ee/vectors.json`, written by the independent Python reference (`interop/e2ee_reference.py`).
struct PythonVectors: Decodable {
    struct World: Decodable {
        let server_ecdsa_secret: String
        let server_ecdsa_public: String
        let server_ed25519_seed: String
        let server_ed25519_public: String
        let server_x25519_secret: String
        let server_x25519_public: String
        let client_ecdsa_secret: String
        let client_ecdsa_public: String
        let client_ed25519_seed: String
        let client_ed25519_public: String
        let client_x25519_secret: String
        let client_x25519_public: String
        let aci_x25519_secret: String
        let aci_x25519_public: String
        let aci_client_x25519_secret: String
        let aci_client_x25519_public: String
        let model: String
        let dv_nonce: String
        let aci_nonce: String
        let timestamp: Int64
    }

    struct Where: Decodable {
        let algo: String
        let m: Int?
        let c: Int?
        let model: String?
        let id: String?
        let choice: Int?
        let field: String?
    }

    struct Vector: Decodable {
        let name: String
        let dialect: String
        let suite: String
        let direction: String
        let plaintext: String
        let aad: String
        let recipient: String
        let ephemeral_secret: String
        let nonce: String
        let field: String
        let `where`: Where
    }

    let world: World
    let vectors: [Vector]

    static func load() throws -> Self {
        try JSONDecoder().decode(Self.self, from: Data(Fixtures.bytes("e2ee/vectors.json")))
    }

    func serverKeys() throws -> E2EEServerKeys {
        try E2EEServerKeys(
            ecdsa: Secp256k1PrivateKey(rawRepresentation: Hex.decode(self.world.server_ecdsa_secret)),
            ed25519Seed: Hex.decode(self.world.server_ed25519_seed)
        )
    }

    func aciKeyset() throws -> [ACIKey] {
        [
            try ACIKey(keyID: "e2ee-1", x25519Secret: Hex.decode(self.world.aci_x25519_secret)),
            ACIKey(
                keyID: "e2ee-2",
                secp256k1: try Secp256k1PrivateKey(rawRepresentation: Hex.decode(self.world.server_ecdsa_secret))
            ),
        ]
    }
}

/// Hex helpers for tests.
extension [UInt8] {
    init(hex: String) { self = (try? Hex.decode(hex)) ?? [] }
    var hex: String { Hex.encode(self) }
}
