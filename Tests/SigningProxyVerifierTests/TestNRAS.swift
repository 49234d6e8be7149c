import Crypto
import Foundation
import X509

@testable import SigningProxyVerifier

/// A stand-in for NVIDIA NRAS: a P-384 signing key published as a JWKS, and `/v3/attest/gpu`
/// answers signed with it in NRAS's shape.
struct TestNRAS {
    let key = P384.Signing.PrivateKey()
    let kid = "nras-test-key-1"
    var now = Fixtures.now

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        Data(Array(bytes)).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// `{"keys":[…]}` with this key as x/y coordinates.
    var jwks: [UInt8] {
        get throws {
            let point = Array(key.publicKey.x963Representation)
            return try Fixtures.jsonBytes([
                "keys": [
                    [
                        "kty": "EC", "crv": "P-384", "kid": kid, "alg": "ES384", "use": "sig",
                        "x": Self.base64URL(point[1..<49]), "y": Self.base64URL(point[49..<97]),
                    ]
                ]
            ])
        }
    }

    /// A compact JWS over `claims`, ES384 by `signer` (default: this key).
    func token(_ claims: [String: Any], header: [String: Any]? = nil, signer: P384.Signing.PrivateKey? = nil) throws -> String {
        let head = Self.base64URL(try Fixtures.jsonBytes(header ?? ["alg": "ES384", "kid": kid, "typ": "JWT"]))
        let body = Self.base64URL(try Fixtures.jsonBytes(claims))
        let signature = try (signer ?? key).signature(for: Data("\(head).\(body)".utf8))
        return "\(head).\(body).\(Self.base64URL(signature.rawRepresentation))"
    }

    /// Claims of a healthy GPU for `nonce`.
    func gpuClaims(nonce: [UInt8]) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": NRASAttestation.nvidiaIssuer, "iat": now.timeIntervalSince1970 - 10, "nbf": now.timeIntervalSince1970 - 10,
            "exp": now.timeIntervalSince1970 + 3_600, "jti": UUID().uuidString, "eat_nonce": Fixtures.hex(nonce),
            "measres": "success", "dbgstat": "disabled", "hwmodel": "GH100 A01 GSP BROM", "x-nvidia-gpu-driver-version": "570.133.20",
            "x-nvidia-gpu-vbios-version": "96.00.CF.00.02", "ueid": "642960189298007511250958030500749152730221142468",
        ]
        for flag in NRASVerification.requiredGPUFlags { claims[flag] = true }
        return claims
    }

    /// A full answer for `gpus` GPUs; `platform` and `gpu` may alter the claims before signing.
    func answer(
        nonce: [UInt8], gpus: Int = 2, platform: (inout [String: Any]) -> Void = { _ in },
        gpu: (Int, inout [String: Any]) -> Void = { _, _ in }
    ) throws -> [UInt8] {
        var tokens: [String: String] = [:]
        for index in 0..<gpus {
            var claims = gpuClaims(nonce: nonce)
            gpu(index, &claims)
            tokens["GPU-\(index)"] = try token(claims)
        }
        var claims: [String: Any] = [
            "iss": NRASAttestation.nvidiaIssuer, "sub": "NVIDIA-PLATFORM-ATTESTATION", "x-nvidia-ver": "2.0",
            "iat": now.timeIntervalSince1970 - 10, "nbf": now.timeIntervalSince1970 - 10, "exp": now.timeIntervalSince1970 + 3_600,
            "jti": UUID().uuidString, "eat_nonce": Fixtures.hex(nonce), "x-nvidia-overall-att-result": true,
            "submods": tokens.mapValues { ["DIGEST", ["SHA-256", Fixtures.hex(SHA256.hash(data: Data($0.utf8)))]] },
        ]
        platform(&claims)
        return try Fixtures.jsonBytes([["JWT", try token(claims)], tokens])
    }
}
