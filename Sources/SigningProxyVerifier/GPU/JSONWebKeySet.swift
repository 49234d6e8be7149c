import Crypto
import X509

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A JWK set (RFC 7517) holding P-384 signing keys, as NRAS publishes at `/.well-known/jwks.json`.
struct JSONWebKeySet: Sendable {
    struct Key: Decodable, Sendable {
        var kty: String?
        var crv: String?
        var kid: String?
        var x: String?
        var y: String?
        /// Certificate chain, base64 DER, leaf first (RFC 7517 §4.7).
        var x5c: [String]?
    }

    var keys: [Key]

    private struct Document: Decodable {
        var keys: [Key]
    }

    static func parse(_ bytes: [UInt8]) -> Result<JSONWebKeySet, LenientJSON.Failure> {
        LenientJSON.decode(Document.self, from: bytes, what: "JWKS").map { JSONWebKeySet(keys: $0.keys) }
    }

    /// The P-384 key with `kid`: from its `x`/`y` coordinates, else from the first `x5c` certificate.
    func p384Key(kid: String) -> P384.Signing.PublicKey? {
        guard let key = keys.first(where: { $0.kid == kid }) else { return nil }
        if key.kty == "EC", key.crv == "P-384", let x = key.x.flatMap(Base64URL.decode), let y = key.y.flatMap(Base64URL.decode),
            x.count == 48, y.count == 48
        {
            return try? P384.Signing.PublicKey(x963Representation: [0x04] + x + y)
        }
        if let first = key.x5c?.first, let der = Data(base64Encoded: first), let certificate = try? Certificate(derEncoded: Array(der)) {
            return P384.Signing.PublicKey(certificate.publicKey)
        }
        return nil
    }
}
