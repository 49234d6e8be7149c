import Foundation
import Logging
import SigningCore
import TEE

/// Where the signing keys come from, failing closed (docs/API.md, Keys): the dstack agent, or explicit dev mode.
package enum KeySource {
    /// Keys plus the attestation backend that goes with them.
    package struct Resolved: Sendable {
        package var keys: SigningKeys
        package var attestation: any AttestationReporting
    }

    /// Derives keys in the TEE, or development keys with `dev`; anything else refuses to start.
    ///
    /// - Parameter mode: `.simulated` when the agent is known to be the project's simulator (the demo);
    ///   otherwise the mode is read from one quote of the agent (`AttestationMode.probe`).
    package static func resolve(
        configuration: ProxyConfiguration,
        mode: AttestationMode = .tee,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger
    ) async throws -> Resolved {
        let gpu = gpuProvider(configuration: configuration, logger: logger)
        let fingerprint = try tlsFingerprint(configuration: configuration)
        if configuration.dev {
            let keys = SigningKeys.dev(seed: configuration.devKeySeed)
            announceDevMode(keys: keys, seeded: configuration.devKeySeed != nil, logger: logger)
            let service = AttestationService(
                agent: nil, keys: keys, info: nil, modelName: configuration.modelName, gpu: gpu,
                tlsCertificateFingerprint: fingerprint, mode: .dev,
                cacheTTL: configuration.attestationCacheTTL, maxPending: configuration.attestationMaxPending,
                logger: logger, e2eePublicKeys: try e2eeKeys(keys, configuration: configuration)
            )
            return Resolved(keys: keys, attestation: service)
        }
        if configuration.devKeySeed != nil {
            throw ConfigurationError.refused("DEV_KEY_SEED / --dev-key-seed needs --dev (DEV=1)")
        }
        let agent: DstackAgentClient
        do {
            agent = try DstackAgentClient(
                explicitEndpoint: configuration.dstackEndpoint, environment: environment, logger: logger)
        } catch {
            throw ConfigurationError.refused(
                "no signing key source: \(error). Mount the dstack agent socket (/var/run/dstack.sock) or pass "
                    + "--dstack-endpoint; for local development only, pass --dev (DEV=1).")
        }
        let loaded: (keys: SigningKeys, info: DstackInfo)
        do {
            loaded = try await TEEKeyLoader.load(agent: agent, modelName: configuration.modelName, logger: logger)
        } catch {
            throw ConfigurationError.refused(
                "cannot derive signing keys from the dstack agent: \(error). "
                    + "Check that the agent socket is mounted and reachable; for local development only, pass --dev (DEV=1).")
        }
        // The report's `mode` comes from the agent's own evidence (docs/API.md, Response fields).
        let detected: AttestationMode
        do {
            detected = mode == .simulated ? .simulated : try await AttestationMode.probe(agent: agent)
        } catch {
            throw ConfigurationError.refused("the dstack agent gives no quote: \(error). Check that the agent socket is mounted and reachable.")
        }
        logger.info(
            "\(detected.keysDerivedMessage)",
            metadata: [
                "signing.address": "\(loaded.keys.ecdsaAddress.checksummed)",
                "signing.ed25519": "\(loaded.keys.ed25519PublicKeyHex)",
            ])
        let service = AttestationService(
            agent: agent, keys: loaded.keys, info: loaded.info, modelName: configuration.modelName, gpu: gpu,
            tlsCertificateFingerprint: fingerprint, mode: detected,
            cacheTTL: configuration.attestationCacheTTL, maxPending: configuration.attestationMaxPending,
            logger: logger, e2eePublicKeys: try e2eeKeys(loaded.keys, configuration: configuration)
        )
        return Resolved(keys: loaded.keys, attestation: service)
    }

    /// The E2EE keys reports publish (docs/E2EE.md, Keys).
    static func e2eeKeys(_ keys: SigningKeys, configuration: ProxyConfiguration) throws -> [E2EEPublicKeyEntry] {
        do {
            return try E2EEKeyring(keys: keys, window: configuration.e2eeReplayWindow).publicKeyEntries
        } catch {
            throw ConfigurationError.refused("cannot derive the E2EE keys from the signing keys: \(error)")
        }
    }

    static func gpuProvider(configuration: ProxyConfiguration, logger: Logger) -> any GPUEvidenceProvider {
        if configuration.gpuNoHardwareMode {
            logger.warning("GPU_NO_HW_MODE: attestation reports carry canned GPU evidence, marked as such")
            return CannedEvidenceProvider()
        }
        return NVMLEvidenceProvider(logger: logger)
    }

    static func tlsFingerprint(configuration: ProxyConfiguration) throws -> [UInt8]? {
        guard let path = configuration.tlsCertificatePath else { return nil }
        do {
            let pem = try String(contentsOfFile: path, encoding: .utf8)
            return try TLSCertificateFingerprint.sha256OfSPKI(pemEncoded: pem)
        } catch {
            throw ConfigurationError.refused("cannot read the TLS certificate at \(path): \(error)")
        }
    }

    /// Dev mode must be impossible to miss in the logs.
    static func announceDevMode(keys: SigningKeys, seeded: Bool, logger: Logger) {
        let banner = String(repeating: "!", count: 78)
        logger.warning("\(banner)")
        logger.warning("DEV MODE: signing with \(seeded ? "seeded" : "random") development keys, NOT derived in a TEE.")
        logger.warning("Signatures from this process prove nothing about attested hardware. Never use in production.")
        logger.warning("dev signing address: \(keys.ecdsaAddress.checksummed)")
        logger.warning("\(banner)")
    }
}
