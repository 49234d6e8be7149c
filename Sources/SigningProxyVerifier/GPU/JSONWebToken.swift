import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A compact JWS (RFC 7515) signed with ES384, verified against a JWK set before its claims are read.
struct JSONWebToken: Sendable {
    /// The verified claims.
    var claims: [String: JSONValue]
    /// The `kid` of the key that verified it.
    var keyID: String

    /// Why a token was rejected.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }

    /// Verifies `token` (ES384, key by `kid` from `keys`) and only then decodes its claims.
    static func verify(_ token: String, keys: JSONWebKeySet) -> Result<JSONWebToken, Failure> {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else {
            return .failure(.init(description: "is not a compact JWS (three base64url parts)"))
        }
        guard let headerBytes = Base64URL.decode(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes))
        else {
            return .failure(.init(description: "has an unreadable header"))
        }
        guard header.alg == "ES384" else {
            return .failure(.init(description: "is signed with \(header.alg), not ES384"))
        }
        guard let kid = header.kid else { return .failure(.init(description: "names no kid")) }
        guard let key = keys.p384Key(kid: kid) else {
            return .failure(.init(description: "names kid \(kid), which the JWKS has no P-384 key for"))
        }
        guard let signatureBytes = Base64URL.decode(parts[2]), signatureBytes.count == 96,
            let signature = try? P384.Signing.ECDSASignature(rawRepresentation: signatureBytes)
        else {
            return .failure(.init(description: "has no 96-byte ES384 signature"))
        }
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        guard key.isValidSignature(signature, for: signingInput) else {
            return .failure(.init(description: "signature does not verify with key \(kid)"))
        }
        guard let payload = Base64URL.decode(parts[1]),
            let claims = try? JSONDecoder().decode([String: JSONValue].self, from: Data(payload))
        else {
            return .failure(.init(description: "has a verified signature but no JSON object of claims"))
        }
        return .success(JSONWebToken(claims: claims, keyID: kid))
    }
}
