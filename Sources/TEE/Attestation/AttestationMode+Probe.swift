import Crypto
import TDX

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension AttestationMode {
    /// What a quote says about the agent that produced it: `tee` when its ECDSA P-256 signature over the
    /// header and TD report verifies with the attestation key it carries, `simulated` otherwise.
    ///
    /// A quoting enclave signs every quote it produces, so a real agent's quote always verifies; the
    /// dstack simulator (ours, and dstack's own) serves a recorded quote with REPORT_DATA and other
    /// fields rewritten after signing, which can never verify. This is a label for operators and logs
    /// only: a verifier still checks the whole DCAP chain to Intel's root (`signing-proxy verify`).
    package static func of(quote: [UInt8]) -> AttestationMode {
        guard let parsed = try? TDXQuote(bytes: quote),
            let key = try? P256.Signing.PublicKey(rawRepresentation: parsed.authData.attestationKey),
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: parsed.authData.quoteSignature)
        else { return .simulated }
        return key.isValidSignature(signature, for: Data(parsed.signedBytes)) ? .tee : .simulated
    }

    /// Asks `agent` for one quote and reads the mode from it (`of(quote:)`).
    /// - Throws: the agent's error when it gives no quote: the caller refuses to start rather than guess.
    package static func probe(agent: any DstackAgent) async throws -> AttestationMode {
        var reportData = [UInt8](repeating: 0, count: 64)
        for index in reportData.indices { reportData[index] = UInt8.random(in: 0...255) }
        let quote = try await agent.getQuote(reportData: reportData)
        return of(quote: quote.quote)
    }

    /// The startup log line that says where the signing keys come from.
    package var keysDerivedMessage: String {
        switch self {
        case .tee: "signing keys derived in the TEE"
        case .simulated: "signing keys derived by the dstack simulator: simulated quotes, no hardware trust"
        case .dev: "development signing keys, not derived in a TEE"
        }
    }
}
