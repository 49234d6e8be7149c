import Crypto
import E2EE
import SigningCore
import SigningCrypto
import TEE

/// The keys encrypted requests are opened with, all derived from the signing keys (docs/E2EE.md, Keys):
/// the secp256k1 signing key for the ecdsa suites, the X25519 form of the ed25519 key for the ed25519 ones,
/// and ACI's keyset (the same two, under ACI's suite names), which attestation reports publish.
package struct E2EEKeyring: Sendable {
    let server: E2EEServerKeys
    let aci: [ACIKey]
    /// `E2EE_REPLAY_WINDOW_SECONDS`.
    let window: Int64

    package init(keys: SigningKeys, window: Int64) throws {
        let seed = Array(keys.ed25519.rawRepresentation)
        self.server = try E2EEServerKeys(ecdsa: keys.ecdsa, ed25519Seed: seed)
        let x25519Secret = try Ed25519Montgomery.x25519SecretKey(ed25519Seed: seed)
        // Both keys are bound by the report's `signing_public_key` / address; ACI's per-role rule would want
        // keys of their own, which report_data (the Python proxy's layout) could not bind.
        let unnamed = [try ACIKey(keyID: "", x25519Secret: x25519Secret), ACIKey(keyID: "", secp256k1: keys.ecdsa)]
        self.aci = unnamed.map { $0.named(Self.keyID($0)) }
        self.window = window
    }

    /// A stable id per key: the suite and the first 8 bytes of the key's SHA-256.
    private static func keyID(_ key: ACIKey) -> String {
        let digest = SHA256.hash(data: Array(key.publicKeyHex.utf8))
        return (key.suite == .x25519 ? "x25519-" : "secp256k1-") + Hex.encode(digest.prefix(8))
    }

    /// ACI's keyset entries, as attestation reports list them in `e2ee_public_keys`.
    package var publicKeyEntries: [E2EEPublicKeyEntry] {
        aci.map { E2EEPublicKeyEntry(keyID: $0.keyID, algo: $0.suite.rawValue, publicKey: $0.publicKeyHex) }
    }
}
