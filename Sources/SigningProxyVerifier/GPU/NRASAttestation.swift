/// NVIDIA NRAS's verdict on a report's GPU evidence, as bytes fetched online.
///
/// The library does not contact NRAS: POST the report's `nvidia_payload` object to
/// `https://nras.attestation.nvidia.com/v3/attest/gpu` (``ResponseVerifier/nvidiaPayload(inAttestation:signingAddress:)``
/// gives the bytes) and GET `/.well-known/jwks.json`, then pass both answers here. Every token is
/// verified (ES384, key by `kid`) before any claim is read.
public struct NRASAttestation: Sendable, Hashable {
    /// The answer of `POST /v3/attest/gpu`: `[["JWT", <platform token>], {"GPU-0": <token>, …}]`.
    public var response: [UInt8]
    /// The answer of `GET /.well-known/jwks.json`: NRAS's signing keys.
    public var jwks: [UInt8]
    /// The expected `iss` of every token.
    public var issuer: String

    /// NRAS's issuer, `https://nras.attestation.nvidia.com`.
    public static let nvidiaIssuer = "https://nras.attestation.nvidia.com"

    /// Creates the NRAS evidence from the two answers.
    public init(response: [UInt8], jwks: [UInt8], issuer: String = NRASAttestation.nvidiaIssuer) {
        self.response = response
        self.jwks = jwks
        self.issuer = issuer
    }
}
