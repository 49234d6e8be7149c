/// A request in ACI E2EE v2 (Phala's private-ai-gateway, `spec/e2ee-v2.md`), parsed and checked.
///
/// Checks in the gateway's order: `X-E2EE-Version` present and `2`; the other four headers; nonce exactly 64 hex
/// (either case, no prefix); timestamp an unsigned integer within the window of `now`; `X-Model-Pub-Key` one of
/// our keys (the first match fixes the suite); the client key valid for that suite. The replay claim is separate
/// (`claimNonce`): the gateway claims after it has checked the body's `model`, before decrypting.
package struct ACIContext: Sendable {
    package let key: ACIKey
    /// Canonical lowercase hex of the client's key.
    package let clientPublicKeyHex: String
    let clientKey: E2EEPublicKey
    /// `X-E2EE-Nonce` as sent (the AAD carries it so).
    package let nonce: String
    package let timestamp: Int64

    package static let window: Int64 = 300

    package init(headers: E2EEHeaders, keyset: [ACIKey], now: Int64, window: Int64 = ACIContext.window) throws(E2EEError) {
        guard let version = headers.e2eeVersion else { throw .headerMissing(.aci) }
        guard version.trimmed == "2" else { throw .invalidVersion(.aci) }
        if headers.signingAlgo != nil { throw .mixedHeaders(.aci) }
        guard let client = headers.clientPublicKey, let model = headers.modelPublicKey, let nonce = headers.nonce,
            let timestamp = headers.timestamp
        else { throw .headerMissing(.aci) }
        guard nonce.utf8.count == 64, nonce.utf8.allSatisfy({ Self.isHexDigit($0) }) else {
            throw .invalidNonce(.aci)
        }
        // Rust's `u64::from_str`, which the gateway uses: digits with an optional `+`.
        let digits = timestamp.hasPrefix("+") ? String(timestamp.dropFirst()) : timestamp
        guard digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let seconds = UInt64(digits), seconds <= UInt64(Int64.max)
        else { throw .invalidTimestamp(.aci) }
        let (skew, overflow) = now.subtractingReportingOverflow(Int64(seconds))
        guard !overflow, skew.magnitude <= window.magnitude else { throw .invalidTimestamp(.aci) }
        guard
            let selected = keyset.first(where: { entry in
                entry.suite.parse(model, checked: false)?.canonical == entry.publicKeyHex
            })
        else { throw .modelKeyMismatch(.aci) }
        guard let parsedClient = selected.suite.parse(client) else { throw .invalidPublicKey(.aci) }
        self.key = selected
        self.clientKey = parsedClient.key
        self.clientPublicKeyHex = parsedClient.canonical
        self.nonce = nonce
        self.timestamp = Int64(seconds)
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default: false
        }
    }

    /// `(client key, service key, nonce)` single-use while the timestamp is acceptable; the two hex cases of
    /// one nonce are one nonce.
    package func claimNonce(now: Int64, window: Int64 = ACIContext.window, store: some E2EEReplayStore) async throws(E2EEError) {
        let key = "aci:\(self.clientPublicKeyHex):\(self.key.publicKeyHex):\(self.nonce.lowercased())"
        switch await store.claim(key, expiresAt: self.timestamp + window + 1, now: now) {
        case .fresh: return
        case .replayed: throw .replayDetected(.aci)
        case .full: throw .replayCapacity(.aci)
        }
    }

    // MARK: AAD

    /// JCS of `{purpose: aci.e2ee.request.v2, algo, model, field, nonce, ts}`; `model` is the request's, byte-exact.
    package func requestAAD(model: String, field: String) -> [UInt8] {
        E2EEAAD.aciRequest(suite: self.key.suite, model: model, field: field, nonce: self.nonce, timestamp: self.timestamp)
    }

    /// The response's AAD adds `id` (the clear response id, "" when none); `model` stays the request's.
    package func responseAAD(model: String, id: String, field: String) -> [UInt8] {
        E2EEAAD.aciResponse(
            suite: self.key.suite, model: model, id: id, field: field, nonce: self.nonce, timestamp: self.timestamp)
    }

    // MARK: Fields

    /// Decrypts the field at `field` (a path such as `messages.0.content`; see the spec's §5).
    package func decryptRequestField(_ hex: String, model: String, field: String) throws(E2EEError) -> String {
        guard let blob = FieldHex.decode(hex, allowPrefix: true),
            let plaintext = try? self.key.suite.cipher.open(
                blob, recipient: self.key.secret, aad: self.requestAAD(model: model, field: field)
            )
        else { throw .decryptionFailed(.aci) }
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw .decryptionFailed(.aci) }
        return text
    }

    /// Encrypts the answer field at `field` (e.g. `choices.0.message.content`), fresh ephemeral key per field.
    package func encryptResponseField(_ plaintext: String, model: String, id: String, field: String) throws(E2EEError) -> String {
        let aad = self.responseAAD(model: model, id: id, field: field)
        guard let sealed = try? self.key.suite.cipher.seal(plaintext.utf8, to: self.clientKey, aad: aad) else {
            throw .invalidPublicKey(.aci)
        }
        return FieldHex.encode(sealed)
    }

    package var responseHeaders: [(name: String, value: String)] {
        [("X-E2EE-Applied", "true"), ("X-E2EE-Version", "2"), ("X-E2EE-Algo", self.key.suite.rawValue)]
    }
}
