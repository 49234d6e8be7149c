/// One key clients may encrypt prompts to, as the report lists it in `e2ee_public_keys` (docs/E2EE.md, Keys):
/// the shape of ACI's keyset entry, `{key_id, algo, public_key}`.
package struct E2EEPublicKeyEntry: Sendable, Equatable {
    package var keyID: String
    /// The suite's name, e.g. `x25519-aes-256-gcm-hkdf-sha256`.
    package var algo: String
    /// Lowercase hex, in the suite's encoding.
    package var publicKey: String

    package init(keyID: String, algo: String, publicKey: String) {
        self.keyID = keyID
        self.algo = algo
        self.publicKey = publicKey
    }

    /// `[{"key_id":…,"algo":…,"public_key":…}, …]`.
    static func json(_ entries: [E2EEPublicKeyEntry]) -> [UInt8] {
        var array: [UInt8] = [UInt8(ascii: "[")]
        for (index, entry) in entries.enumerated() {
            if index > 0 { array.append(UInt8(ascii: ",")) }
            var object = AttestationJSONObject()
            object.string("key_id", entry.keyID)
            object.string("algo", entry.algo)
            object.string("public_key", entry.publicKey)
            array += object.json
        }
        array.append(UInt8(ascii: "]"))
        return array
    }
}
