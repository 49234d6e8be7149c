/// What a verifier expects a compose file to pin: the service and the image digest it must name.
///
/// The digest is the image's manifest digest, the `sha256:…` a registry answers for it and the compose file names as
/// `name@sha256:…`. A verifier who rebuilt the image has its image id (config digest) instead: give the registry's
/// manifest for the pinned digest and that id, and the check ties them together (docs/DEPLOY.md, "Verify the pinned
/// image").
public struct ImagePin: Sendable {
    /// The compose service that must pin the image (default `signing-proxy`).
    public var service: String
    /// Expected manifest digest: `sha256:<64 hex>`, bare hex, or `name@sha256:<64 hex>`.
    public var digest: String?
    /// The image manifest as the registry serves it for the pinned digest (raw bytes: its SHA-256 is the digest).
    public var manifest: [UInt8]?
    /// The image id (config digest, `sha256:<64 hex>`) of the verifier's own rebuild; the manifest must name it.
    public var rebuiltImageID: String?

    /// Creates an expectation; give `digest`, or `manifest` (with `rebuiltImageID` to tie it to a rebuild), or both.
    public init(service: String = "signing-proxy", digest: String? = nil, manifest: [UInt8]? = nil, rebuiltImageID: String? = nil) {
        self.service = service
        self.digest = digest
        self.manifest = manifest
        self.rebuiltImageID = rebuiltImageID
    }
}
