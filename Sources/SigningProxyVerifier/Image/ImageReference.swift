/// An image reference as a compose `image:` names it: `[registry/]repository[:tag][@sha256:<64 hex>]`.
struct ImageReference: Sendable, Equatable {
    /// Everything before `@`, tag included.
    var name: String
    /// The tag, if the name has one.
    var tag: String?
    /// `sha256:<64 lowercase hex>` after `@`, or nil when the reference has no `@`.
    var digest: String?
    /// Text after `@` that is not a well-formed sha256 digest.
    var malformedDigest: String?

    init(_ text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        name = String(parts[0])
        // A tag is the text after the last ':' that follows the last '/' (a registry port comes before a '/').
        let lastComponent = name.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        tag = lastComponent.firstIndex(of: ":").map { String(lastComponent[lastComponent.index(after: $0)...]) }
        if parts.count == 2 {
            let after = String(parts[1])
            if Self.isDigest(after) {
                digest = after
            } else {
                malformedDigest = after
            }
        }
    }

    /// `sha256:` followed by exactly 64 lowercase hex digits, the only form docker and podman accept for sha256.
    static func isDigest(_ text: String) -> Bool {
        guard text.hasPrefix("sha256:") else { return false }
        let hex = text.utf8.dropFirst(7)
        return hex.count == 64 && hex.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// `sha256:<hex>` from `sha256:<hex>`, bare hex, or `name@sha256:<hex>`, in either case; nil when malformed.
    static func normalizedDigest(_ text: String) -> String? {
        var candidate = text.trimmingASCIIWhitespace().lowercased()
        if let at = candidate.lastIndex(of: "@") { candidate = String(candidate[candidate.index(after: at)...]) }
        if !candidate.hasPrefix("sha256:") { candidate = "sha256:" + candidate }
        return isDigest(candidate) ? candidate : nil
    }
}
