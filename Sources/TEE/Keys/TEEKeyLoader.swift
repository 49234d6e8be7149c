import Crypto
import Logging
import SigningContract
import SigningCore
import SigningCrypto

/// Obtains signing-proxy's two signing keys from the dstack guest agent at startup (docs/API.md, Keys).
package enum TEEKeyLoader {
    /// The `GetKey` purpose for both keys (it only changes chain link 0).
    package static let purpose = "signing"

    /// `GetKey` path of the secp256k1 key: the Rust proxy's, so an app keeps its address.
    package static func ecdsaPath(modelName: String) -> String { "\(modelName)/ecdsa-signing-key" }

    /// `GetKey` path of the ed25519 key.
    package static func ed25519Path(modelName: String) -> String { "\(modelName)/ed25519-signing-key" }

    /// Probes Version, derives both keys with GetKey, checks both chains, reads Info.
    ///
    /// Chain checks: link 0 of each key recovers the app root key (claims built from the compressed
    /// secp256k1 key and the raw ed25519 key), both recover the same root, and link 1 of each chain
    /// recovers a KMS key over this app's id (the KMS key is logged, not pinned). An agent that ignored
    /// `algorithm` (≤ 0.5.5) certifies the secp256k1 reading on the ed25519 path: the key is kept but
    /// its provenance is omitted.
    /// - Parameter modelName: `MODEL_NAME`, verbatim (it may contain `/`).
    /// - Throws: `TEEKeyLoaderError` describing what failed and what to do; never key material.
    package static func load(
        agent: any DstackAgent,
        modelName: String,
        logger: Logger
    ) async throws -> (keys: SigningKeys, info: DstackInfo) {
        do {
            if let version = try await agent.version() {
                logger.info(
                    "dstack agent found", metadata: ["dstack.version": "\(version.version)", "dstack.rev": "\(version.rev)"])
            } else {
                logger.notice("dstack agent predates 0.5.7 (no Version method); continuing")
            }
        } catch {
            throw TEEKeyLoaderError.agent(step: "Version", error)
        }

        let ecdsaPath = ecdsaPath(modelName: modelName)
        let ed25519Path = ed25519Path(modelName: modelName)
        let ecdsaAnswer = try await getKey(agent, path: ecdsaPath, algorithm: "secp256k1")
        let ed25519Answer = try await getKey(agent, path: ed25519Path, algorithm: "ed25519")
        let info: DstackInfo
        do {
            info = try await agent.info()
        } catch {
            throw TEEKeyLoaderError.agent(step: "Info", error)
        }

        let ecdsa: Secp256k1PrivateKey
        do {
            ecdsa = try Secp256k1PrivateKey(rawRepresentation: ecdsaAnswer.key)
        } catch {
            throw TEEKeyLoaderError.invalidKey("\(ecdsaPath) is not a valid secp256k1 scalar")
        }
        let ed25519: Curve25519.Signing.PrivateKey
        do {
            ed25519 = try Curve25519.Signing.PrivateKey(rawRepresentation: ed25519Answer.key)
        } catch {
            throw TEEKeyLoaderError.invalidKey("\(ed25519Path) is not a valid ed25519 seed")
        }

        let appID = try appIDBytes(info)
        let ecdsaPublic = ecdsa.publicKey.compressed
        let ed25519Public = Array(ed25519.publicKey.rawRepresentation)

        // Link 0 of the secp256k1 key names the app root key every other check is tied to.
        let ecdsaChain = try links(ecdsaAnswer, path: ecdsaPath)
        let appRoot = try DstackKeyChain.recoverSigner(
            link: ecdsaChain[0],
            digest: DstackKeyChain.keyClaimDigest(purpose: purpose, publicKey: ecdsaPublic),
            what: "link 0 of \(ecdsaPath)")

        let ed25519Chain = try links(ed25519Answer, path: ed25519Path)
        let ed25519Root = try DstackKeyChain.recoverSigner(
            link: ed25519Chain[0],
            digest: DstackKeyChain.keyClaimDigest(purpose: purpose, publicKey: ed25519Public),
            what: "link 0 of \(ed25519Path)")
        var ed25519Certified = true
        if ed25519Root != appRoot {
            // An agent ≤ 0.5.5 ignores `algorithm` and certifies the secp256k1 reading of the same bytes.
            let legacyRoot: Secp256k1PublicKey?
            if let legacyKey = try? Secp256k1PrivateKey(rawRepresentation: ed25519Answer.key) {
                legacyRoot = try? DstackKeyChain.recoverSigner(
                    link: ed25519Chain[0],
                    digest: DstackKeyChain.keyClaimDigest(purpose: purpose, publicKey: legacyKey.publicKey.compressed),
                    what: "link 0 of \(ed25519Path)")
            } else {
                legacyRoot = nil
            }
            guard legacyRoot == appRoot else {
                throw TEEKeyLoaderError.invalidChain(
                    "link 0 of \(ed25519Path) and link 0 of \(ecdsaPath) recover different app root keys")
            }
            ed25519Certified = false
            logger.warning(
                "dstack agent ignored algorithm=ed25519 (agent ≤ 0.5.5); ed25519 key kept without key provenance")
        }

        let kmsDigest = DstackKeyChain.kmsClaimDigest(appID: appID, appRootPublicKey: appRoot)
        let kmsRoot = try DstackKeyChain.recoverSigner(
            link: ecdsaChain[1], digest: kmsDigest, what: "link 1 of \(ecdsaPath)")
        let ed25519KMSRoot = try DstackKeyChain.recoverSigner(
            link: ed25519Chain[1], digest: kmsDigest, what: "link 1 of \(ed25519Path)")
        guard ed25519KMSRoot == kmsRoot else {
            throw TEEKeyLoaderError.invalidChain("link 1 of \(ed25519Path) and of \(ecdsaPath) name different KMS keys")
        }

        let appIDHex = Hex.encode(appID)
        let ecdsaProvenance = KeyProvenance(
            path: ecdsaPath,
            purpose: purpose,
            algorithm: "secp256k1",
            publicKey: Hex.encode(ecdsaPublic),
            signatureChain: ecdsaAnswer.signatureChain.map { Hex.encode($0) },
            appID: appIDHex)
        let ed25519Provenance =
            ed25519Certified
            ? KeyProvenance(
                path: ed25519Path,
                purpose: purpose,
                algorithm: "ed25519",
                publicKey: Hex.encode(ed25519Public),
                signatureChain: ed25519Answer.signatureChain.map { Hex.encode($0) },
                appID: appIDHex)
            : nil
        let keys = SigningKeys(
            ecdsa: ecdsa,
            ed25519: ed25519,
            origin: .tee,
            ecdsaProvenance: ecdsaProvenance,
            ed25519Provenance: ed25519Provenance)
        logger.info(
            "signing keys derived by the dstack agent",
            metadata: [
                "signing.ecdsa_address": "\(keys.ecdsaAddress.checksummed)",
                "signing.ed25519_public_key": "\(keys.ed25519PublicKeyHex)",
                "dstack.app_id": "\(appIDHex)",
                "dstack.app_root_public_key": "\(Hex.encode(appRoot.compressed))",
                "dstack.kms_root_public_key": "\(Hex.encode(kmsRoot.compressed))",
            ])
        return (keys, info)
    }

    private static func getKey(_ agent: any DstackAgent, path: String, algorithm: String) async throws -> DstackKey {
        let key: DstackKey
        do {
            key = try await agent.getKey(path: path, purpose: purpose, algorithm: algorithm)
        } catch {
            throw TEEKeyLoaderError.agent(step: "GetKey(\(path), \(algorithm))", error)
        }
        guard key.key.count == 32 else {
            throw TEEKeyLoaderError.invalidKey("\(path) has \(key.key.count) bytes, expected 32")
        }
        return key
    }

    /// The first two links of a chain (the v0 chain has exactly two).
    private static func links(_ key: DstackKey, path: String) throws(TEEKeyLoaderError) -> [[UInt8]] {
        guard key.signatureChain.count >= 2 else {
            throw .invalidChain("\(path) has \(key.signatureChain.count) chain links, expected 2")
        }
        return Array(key.signatureChain.prefix(2))
    }

    private static func appIDBytes(_ info: DstackInfo) throws(TEEKeyLoaderError) -> [UInt8] {
        guard let text = info.appID, !text.isEmpty else {
            throw .missingAppID("app_id is absent")
        }
        guard let bytes = try? Hex.decode(text), bytes.count == 20 else {
            throw .missingAppID("app_id is not 20 bytes of hex")
        }
        return bytes
    }
}
