import Crypto
import SigningCrypto
import SigningContract

/// The proxy's two signing keys, with where they came from.
///
/// Key material stays in memory: nothing here is logged, encoded or served except public keys.
package struct SigningKeys: Sendable {
    package enum Origin: String, Sendable {
        /// Derived by the dstack guest agent inside the TEE.
        case tee
        /// Random or seeded development keys: never attested.
        case dev
    }

    package let ecdsa: Secp256k1PrivateKey
    package let ed25519: Curve25519.Signing.PrivateKey
    package let origin: Origin
    package let ecdsaProvenance: KeyProvenance?
    package let ed25519Provenance: KeyProvenance?
    /// EIP-55 address of the secp256k1 key.
    package let ecdsaAddress: EthereumAddress
    /// `ecdsaAddress` as served: checksummed (a Keccak hash, so not recomputed per answer).
    package let ecdsaAddressChecksummed: String
    /// 128 hex characters: the uncompressed point without the `04` prefix.
    package let ecdsaPublicKeyHex: String
    /// 64 hex characters: the raw ed25519 public key.
    package let ed25519PublicKeyHex: String

    package init(
        ecdsa: Secp256k1PrivateKey,
        ed25519: Curve25519.Signing.PrivateKey,
        origin: Origin,
        ecdsaProvenance: KeyProvenance? = nil,
        ed25519Provenance: KeyProvenance? = nil
    ) {
        self.ecdsa = ecdsa
        self.ed25519 = ed25519
        self.origin = origin
        self.ecdsaProvenance = ecdsaProvenance
        self.ed25519Provenance = ed25519Provenance
        // Derived once: these are read on every signature and attestation response.
        let publicKey = ecdsa.publicKey
        self.ecdsaAddress = EthereumAddress(publicKey: publicKey)
        self.ecdsaAddressChecksummed = ecdsaAddress.checksummed
        self.ecdsaPublicKeyHex = Hex.encode(publicKey.xy)
        self.ed25519PublicKeyHex = Hex.encode(ed25519.publicKey.rawRepresentation)
    }

    /// What `signing_address` names for `algorithm` (docs/API.md, Signatures): the EIP-55 address, or the
    /// ed25519 public key in hex.
    package func signingAddress(_ algorithm: SignatureAlgorithm) -> String {
        switch algorithm {
        case .ecdsa: ecdsaAddressChecksummed
        case .ed25519: ed25519PublicKeyHex
        }
    }

    /// Development keys: random per start, or derived from `seed` so that restarts keep the address.
    ///
    /// A seed gives HKDF-SHA256(salt "signing-proxy-dev", IKM seed, info "<algorithm>") for each key, so
    /// the two keys differ and no dstack path is ever reused for a development key.
    package static func dev(seed: String?) -> SigningKeys {
        guard let seed else {
            return SigningKeys(
                ecdsa: .random(),
                ed25519: Curve25519.Signing.PrivateKey(),
                origin: .dev
            )
        }
        func derive(_ info: String) -> [UInt8] {
            let key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: Array(seed.utf8)),
                salt: Array("signing-proxy-dev".utf8),
                info: Array(info.utf8),
                outputByteCount: 32
            )
            return key.withUnsafeBytes { Array($0) }
        }
        // HKDF output is a valid secp256k1 scalar except with probability ~2^-128; retry with a counter then.
        var ecdsa: Secp256k1PrivateKey?
        var counter = 0
        while ecdsa == nil {
            ecdsa = try? Secp256k1PrivateKey(rawRepresentation: derive(counter == 0 ? "secp256k1" : "secp256k1/\(counter)"))
            counter += 1
        }
        let ed25519Seed = derive("ed25519")
        // A 32-byte seed is always a valid ed25519 private key.
        let ed25519 = (try? Curve25519.Signing.PrivateKey(rawRepresentation: ed25519Seed)) ?? Curve25519.Signing.PrivateKey()
        return SigningKeys(ecdsa: ecdsa ?? .random(), ed25519: ed25519, origin: .dev)
    }
}
