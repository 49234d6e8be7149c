/// The request headers that select and configure E2EE, read once from the request head.
///
/// An empty or all-blank value counts as absent, as the DV reference treats it (`bool("")` is false).
package struct E2EEHeaders: Sendable, Hashable {
    package var signingAlgo: String?
    package var clientPublicKey: String?
    package var modelPublicKey: String?
    /// `X-E2EE-Version` (DV, ACI).
    package var e2eeVersion: String?
    package var nonce: String?
    package var timestamp: String?
    /// `X-Encryption-Version` (NEAR).
    package var encryptionVersion: String?
    /// `X-Encrypt-All-Fields` (NEAR).
    package var encryptAllFields: String?
    /// Whether one of these headers came more than once (refused: two values could be read differently by a
    /// gateway in front and by us).
    package private(set) var hasDuplicates = false

    package init(
        signingAlgo: String? = nil, clientPublicKey: String? = nil, modelPublicKey: String? = nil,
        e2eeVersion: String? = nil, nonce: String? = nil, timestamp: String? = nil,
        encryptionVersion: String? = nil, encryptAllFields: String? = nil
    ) {
        self.signingAlgo = Self.present(signingAlgo)
        self.clientPublicKey = Self.present(clientPublicKey)
        self.modelPublicKey = Self.present(modelPublicKey)
        self.e2eeVersion = Self.present(e2eeVersion)
        self.nonce = Self.present(nonce)
        self.timestamp = Self.present(timestamp)
        self.encryptionVersion = Self.present(encryptionVersion)
        self.encryptAllFields = Self.present(encryptAllFields)
    }

    /// From name/value pairs; names compare case-insensitively. A repeated E2EE header sets `hasDuplicates`.
    package init(_ fields: some Sequence<(String, String)>) {
        self.init()
        var seen = Set<String>()
        for (name, value) in fields {
            let name = name.lowercased()
            let value = Self.present(value)
            switch name {
            case "x-signing-algo": self.signingAlgo = self.signingAlgo ?? value
            case "x-client-pub-key": self.clientPublicKey = self.clientPublicKey ?? value
            case "x-model-pub-key": self.modelPublicKey = self.modelPublicKey ?? value
            case "x-e2ee-version": self.e2eeVersion = self.e2eeVersion ?? value
            case "x-e2ee-nonce": self.nonce = self.nonce ?? value
            case "x-e2ee-timestamp": self.timestamp = self.timestamp ?? value
            case "x-encryption-version": self.encryptionVersion = self.encryptionVersion ?? value
            case "x-encrypt-all-fields": self.encryptAllFields = self.encryptAllFields ?? value
            default: continue
            }
            if !seen.insert(name).inserted { self.hasDuplicates = true }
        }
    }

    /// Whether any E2EE header is present (a request without one is plaintext, unchanged).
    package var isEmpty: Bool {
        self.signingAlgo == nil && self.clientPublicKey == nil && self.modelPublicKey == nil && self.e2eeVersion == nil
            && self.nonce == nil && self.timestamp == nil && self.encryptionVersion == nil
            && self.encryptAllFields == nil && !self.hasDuplicates
    }

    private static func present(_ value: String?) -> String? {
        guard let value, value.utf8.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return nil }
        return value
    }
}
