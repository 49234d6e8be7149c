import Crypto
import SigningContract
import SigningCrypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The v0 `GetKey` derivation of dstack: HKDF over the app root key, two-link chain.
package struct DstackKeyIssuer: Sendable {
    /// How the 32 derived bytes are read.
    package enum Algorithm: String, Sendable {
        case secp256k1
        case ed25519

        /// Parses the request field: `""` and `k256` mean secp256k1; anything else is unsupported.
        package init?(requestValue: String) {
            switch requestValue {
            case "", "secp256k1", "k256": self = .secp256k1
            case "ed25519": self = .ed25519
            default: return nil
            }
        }
    }

    /// Why a key cannot be issued (answered as 400).
    package struct IssueError: Error, CustomStringConvertible, Hashable {
        package let description: String
    }

    private let appRootKey: Secp256k1PrivateKey
    /// Link 1 as issued by the KMS (`k256_signature`).
    package let kmsSignature: [UInt8]

    /// Uses an app root key and its KMS signature directly.
    package init(appRootKey: Secp256k1PrivateKey, kmsSignature: [UInt8]) {
        self.appRootKey = appRootKey
        self.kmsSignature = kmsSignature
    }

    /// Reads `k256_key` and `k256_signature` from dstack's `appkeys.json`.
    package init(appKeysJSON: [UInt8]) throws(DstackSimulatorError) {
        struct AppKeys: Decodable {
            var k256Key: String
            var k256Signature: String
            enum CodingKeys: String, CodingKey {
                case k256Key = "k256_key"
                case k256Signature = "k256_signature"
            }
        }
        let keys: AppKeys
        do {
            keys = try JSONDecoder().decode(AppKeys.self, from: Data(appKeysJSON))
        } catch {
            throw .fixture("appkeys.json", "needs hex fields k256_key and k256_signature")
        }
        guard let root = try? Secp256k1PrivateKey(rawRepresentation: Hex.decode(keys.k256Key)) else {
            throw .fixture("appkeys.json", "k256_key is not a valid secp256k1 key")
        }
        guard let signature = try? Hex.decode(keys.k256Signature), signature.count == 65 else {
            throw .fixture("appkeys.json", "k256_signature is not 65 bytes of hex")
        }
        self.init(appRootKey: root, kmsSignature: signature)
    }

    /// The app root public key (what link 0 recovers to).
    package var appRootPublicKey: Secp256k1PublicKey { appRootKey.publicKey }

    /// `HKDF-SHA256(salt "RATLS", IKM app root key, info path, 32 bytes)`; only the path matters.
    package func derive(path: String) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: appRootKey.rawRepresentation),
            salt: Array("RATLS".utf8),
            info: Array(path.utf8),
            outputByteCount: 32)
        return key.withUnsafeBytes { Array($0) }
    }

    /// Derives the key for `path` and signs link 0 over `purpose` and the key's public form.
    /// - Returns: the 32 key bytes and the chain `[link 0, link 1]` (65 bytes each, `v` 0/1).
    /// - Throws: `IssueError` when the bytes are not a valid secp256k1 scalar (probability ~2^-128).
    package func issue(path: String, purpose: String, algorithm: Algorithm) throws(IssueError) -> (key: [UInt8], chain: [[UInt8]]) {
        let key = derive(path: path)
        let publicKey: [UInt8]
        switch algorithm {
        case .secp256k1:
            guard let secret = try? Secp256k1PrivateKey(rawRepresentation: key) else {
                throw IssueError(description: "Derived key is not a valid secp256k1 key")
            }
            publicKey = secret.publicKey.compressed
        case .ed25519:
            guard let secret = try? Curve25519.Signing.PrivateKey(rawRepresentation: key) else {
                throw IssueError(description: "Derived key is not a valid ed25519 seed")
            }
            publicKey = Array(secret.publicKey.rawRepresentation)
        }
        let digest = DstackKeyChain.keyClaimDigest(purpose: purpose, publicKey: publicKey)
        guard let link0 = try? appRootKey.signRecoverable(digest: digest).rsv(vOffset: 0) else {
            throw IssueError(description: "Failed to sign the key claim")
        }
        return (key, [link0, kmsSignature])
    }
}
