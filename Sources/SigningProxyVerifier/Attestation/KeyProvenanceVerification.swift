import SigningContract
import SigningCrypto

/// The dstack `GetKey` chain of the signing key (`key_provenance` in docs/API.md).
enum KeyProvenanceVerification {
    struct Inputs {
        var provenance: KeyProvenanceDocument?
        var algorithm: SignatureAlgorithm
        /// The report's key: ecdsa `x‖y` (64 bytes), ed25519 raw 32 bytes.
        var signingPublicKey: [UInt8]?
        /// The app id attested by the RTMR3 `app-id` event, when available.
        var attestedAppID: [UInt8]?
    }

    static func run(_ inputs: Inputs, options: VerificationOptions, into checks: inout CheckList) {
        let pinned = options.kmsRootPublicKey
        guard let provenance = inputs.provenance else {
            let reason = "the report carries no key_provenance (GetKey chain)"
            if pinned != nil {
                checks.fail("key-provenance.app-key", reason + ", so the pinned KMS cannot be checked")
                checks.fail("key-provenance.kms", reason)
            } else {
                checks.skip("key-provenance.app-key", reason, mandatory: false)
                checks.skip("key-provenance.kms", reason + "; no KMS root key pinned either", mandatory: false)
            }
            return
        }
        guard let appRootKey = checkLinkZero(provenance, inputs, into: &checks) else {
            checks.fail("key-provenance.kms", "link 1 cannot be checked without the app root key from link 0")
            return
        }
        checkLinkOne(
            provenance, inputs, appRootKey: appRootKey, pinned: pinned, expectedAppID: options.expectedAppID, into: &checks)
    }

    /// Link 0: `keccak256(purpose ":" hex(public_key))` signed by the app root key.
    private static func checkLinkZero(
        _ provenance: KeyProvenanceDocument, _ inputs: Inputs, into checks: inout CheckList
    ) -> Secp256k1PublicKey? {
        let id = "key-provenance.app-key"
        guard let publicKeyHex = provenance.publicKey?.lowercased().trimmingASCIIWhitespace(),
            let publicKey = HexFormatting.decode(publicKeyHex)
        else {
            checks.fail(id, "key_provenance.public_key is missing or not hex")
            return nil
        }
        guard let reportKey = inputs.signingPublicKey else {
            checks.fail(id, "the report's signing_public_key is missing or not hex")
            return nil
        }
        let expectedKey: [UInt8]?
        switch inputs.algorithm {
        case .ecdsa: expectedKey = (try? Secp256k1PublicKey(sec1: [0x04] + reportKey))?.compressed
        case .ed25519: expectedKey = reportKey
        }
        guard let expectedKey, publicKey == expectedKey else {
            checks.fail(id, "key_provenance.public_key \(HexFormatting.short(publicKey)) is not the report's signing key")
            return nil
        }
        guard let chain = provenance.signatureChain, chain.count == 2,
            let link0 = HexFormatting.decode(chain[0]), let signature = try? Secp256k1RecoverableSignature(rsv: link0)
        else {
            checks.fail(id, "signature_chain must hold two 65-byte hex signatures")
            return nil
        }
        let purpose = provenance.purpose ?? ""
        let digest = DstackKeyChain.keyClaimDigest(purpose: purpose, publicKey: publicKey)
        guard signature.isLowS else {
            checks.fail(id, "link 0 has a high S value: rejected")
            return nil
        }
        guard let appRootKey = try? signature.recoverPublicKey(digest: digest) else {
            checks.fail(id, "no key can be recovered from link 0 over purpose \"\(purpose)\"")
            return nil
        }
        checks.pass(
            id,
            "link 0 (purpose \"\(purpose)\", path \"\(provenance.path ?? "?")\") recovers the app root key "
                + HexFormatting.full(appRootKey.compressed))
        return appRootKey
    }

    /// Link 1: `keccak256("dstack-kms-issued:" ‖ app_id ‖ app root key)` signed by the KMS root key.
    private static func checkLinkOne(
        _ provenance: KeyProvenanceDocument, _ inputs: Inputs, appRootKey: Secp256k1PublicKey, pinned: String?,
        expectedAppID: String?, into checks: inout CheckList
    ) {
        let id = "key-provenance.kms"
        guard let appIDText = provenance.appID, let appID = HexFormatting.decode(appIDText), appID.count == 20 else {
            checks.fail(id, "key_provenance.app_id is missing or not 20 bytes of hex")
            return
        }
        guard let chain = provenance.signatureChain, chain.count == 2, let link1 = HexFormatting.decode(chain[1]),
            let signature = try? Secp256k1RecoverableSignature(rsv: link1), signature.isLowS
        else {
            checks.fail(id, "link 1 is not a 65-byte low-S recoverable signature")
            return
        }
        let digest = DstackKeyChain.kmsClaimDigest(appID: appID, appRootPublicKey: appRootKey)
        guard let kmsKey = try? signature.recoverPublicKey(digest: digest) else {
            checks.fail(id, "no key can be recovered from link 1")
            return
        }
        let recovered = HexFormatting.full(kmsKey.compressed)
        var problems: [String] = []
        if let attested = inputs.attestedAppID, attested != appID {
            problems.append("key_provenance.app_id \(appIDText) is not the attested app-id \(HexFormatting.full(attested))")
        }
        if let expectedAppID, HexFormatting.decode(expectedAppID) != appID {
            problems.append("key_provenance.app_id \(appIDText) is not the expected app \(expectedAppID)")
        }
        guard let pinned else {
            if problems.isEmpty {
                checks.skip(
                    id,
                    "no KMS root key pinned (--kms-pubkey); link 1 for app \(HexFormatting.full(appID)) recovers to \(recovered), unverified",
                    mandatory: false)
            } else {
                checks.fail(id, problems.joined(separator: "; "))
            }
            return
        }
        guard let pinnedKey = HexFormatting.decode(pinned), let pinnedPoint = try? Secp256k1PublicKey(sec1: pinnedKey) else {
            checks.fail(id, "the pinned KMS root key is not a SEC1 secp256k1 public key in hex")
            return
        }
        if pinnedPoint != kmsKey {
            problems.append("link 1 recovers to \(recovered), not the pinned KMS root key \(HexFormatting.full(pinnedPoint.compressed))")
        }
        if problems.isEmpty {
            checks.pass(id, "link 1 binds app \(HexFormatting.full(appID)) and its root key to the pinned KMS root key \(recovered)")
        } else {
            checks.fail(id, problems.joined(separator: "; "))
        }
    }
}
