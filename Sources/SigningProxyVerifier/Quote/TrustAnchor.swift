import Crypto
import X509

/// A pinned root certificate, identified by the SHA-256 of its DER encoding (and optionally its key).
///
/// Certificate chains carried in evidence include their root; the verifier accepts a chain only when
/// that root is byte-for-byte the pinned certificate, never by subject name.
struct TrustAnchor: Sendable, Hashable {
    /// Name used in check details.
    var name: String
    /// SHA-256 of the root certificate's DER encoding.
    var derSHA256: [UInt8]
    /// The root's public key in X9.63 form (`04 ‖ x ‖ y`), when pinned as well.
    var publicKeyX963: [UInt8]?

    /// Intel SGX Root CA: DER SHA-256 and P-256 public key.
    static let intelSGXRootCA = TrustAnchor(
        name: "Intel SGX Root CA",
        derSHA256: bytes("44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"),
        publicKeyX963: bytes(
            "040ba9c4c0c0c86193a3fe23d6b02cda10a8bbd4e88e48b4458561a36e705525f5"
                + "67918e2edc88e40d860bd0cc4ee26aacc988e505a953558c453f6b0904ae7394")
    )

    /// NVIDIA Device Identity CA (`verifier_device_root.pem` in NVIDIA/nvtrust).
    static let nvidiaDeviceIdentityCA = TrustAnchor(
        name: "NVIDIA Device Identity CA",
        derSHA256: bytes("102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"),
        publicKeyX963: nil
    )

    /// Whether `der` (with public key `key`) is this anchor.
    func matches(der: [UInt8], key: Certificate.PublicKey) -> Bool {
        guard Array(SHA256.hash(data: der)) == derSHA256 else { return false }
        guard let pinned = publicKeyX963 else { return true }
        if let p256 = P256.Signing.PublicKey(key) { return Array(p256.x963Representation) == pinned }
        if let p384 = P384.Signing.PublicKey(key) { return Array(p384.x963Representation) == pinned }
        return false
    }

    private static func bytes(_ hex: String) -> [UInt8] {
        // Constants above are well-formed; an empty pin would match nothing.
        HexFormatting.decode(hex) ?? []
    }
}
