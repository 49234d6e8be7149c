/// A request in the DV dialect (the Python vLLM proxy's v1 and v2), parsed and checked against our keys.
///
/// Rules from the DV reference (its `docs/e2ee_protocol.md` and `e2ee.py`), in its order: all three key headers;
/// algo `ecdsa`/`ed25519`; hex keys; `X-Model-Pub-Key` equal to ours; version 1 or 2; nonce and timestamp
/// together; v2 nonce ≥ 16 characters and an integer timestamp. Two steps are added: the nonce is at most
/// `maxNonceLength` bytes, and the client key is checked here (DV only finds a bad one when it encrypts the answer).
package struct DVContext: Sendable {
    package let algo: SigningAlgo
    /// 1 or 2.
    package let version: Int
    package let nonce: String?
    package let timestamp: Int64?
    private let keys: E2EEServerKeys
    /// One ephemeral key per request for every answer field, as DV does (a fresh nonce per field).
    private let responseSealer: FieldSealer

    package static let family = E2EEError.Family.dv

    /// The longest v2 nonce accepted, in UTF-8 bytes. DV sets no bound; its key is kept in memory and in the shared
    /// store for the replay window, stores capped by count, so an ~80 KB header would cost that much per claim.
    package static let maxNonceLength = 256

    package init(headers: E2EEHeaders, version: Int, keys: E2EEServerKeys) throws(E2EEError) {
        guard let algoHeader = headers.signingAlgo, let client = headers.clientPublicKey,
            let model = headers.modelPublicKey
        else { throw .headerMissing(.dv) }
        guard let algo = SigningAlgo(header: algoHeader), keys.supports(algo) else {
            throw .invalidSigningAlgo(.dv)
        }
        guard let clientBytes = FieldHex.decode(client, allowPrefix: false), !clientBytes.isEmpty,
            let modelBytes = FieldHex.decode(model, allowPrefix: false), !modelBytes.isEmpty
        else { throw .invalidPublicKey(.dv) }
        try Self.checkModelKey(modelBytes, algo: algo, keys: keys)
        if let versionHeader = headers.e2eeVersion?.trimmed, versionHeader != "1", versionHeader != "2" {
            throw .invalidVersion(.dv)
        }
        if (headers.nonce == nil) != (headers.timestamp == nil) { throw .headerMissing(.dv) }
        if version == 2 {
            guard let nonce = headers.nonce, let timestamp = headers.timestamp else { throw .headerMissing(.dv) }
            guard nonce.unicodeScalars.count >= 16, nonce.utf8.count <= Self.maxNonceLength else {
                throw .invalidNonce(.dv)
            }
            guard let seconds = Int64(timestamp.trimmed) else { throw .invalidTimestamp(.dv) }
            self.nonce = nonce
            self.timestamp = seconds
        } else {
            self.nonce = nil
            self.timestamp = nil
        }
        let clientKey = try Self.clientKey(clientBytes, algo: algo)
        do {
            self.responseSealer = try Self.suite(algo).sealer(to: clientKey)
        } catch {
            throw .invalidPublicKey(.dv)
        }
        self.algo = algo
        self.version = version
        self.keys = keys
    }

    static func suite(_ algo: SigningAlgo) -> HybridSuite {
        algo == .ecdsa ? .legacyECDSA : .dvEd25519
    }

    /// 64 bytes, or 65 with `04`, for ecdsa; the raw ed25519 key for ed25519 (DV's comparison).
    private static func checkModelKey(_ bytes: [UInt8], algo: SigningAlgo, keys: E2EEServerKeys) throws(E2EEError) {
        switch algo {
        case .ecdsa:
            let xy: ArraySlice<UInt8>
            switch (bytes.count, bytes.first) {
            case (64, _): xy = bytes[...]
            case (65, 0x04): xy = bytes.dropFirst()
            // DV's code raises a plain ValueError here, which it answers as `invalid_e2ee_request`.
            default: throw .malformedField(.dv)
            }
            guard let ours = keys.ecdsa?.publicKey.xy, xy.elementsEqual(ours) else { throw .modelKeyMismatch(.dv) }
        case .ed25519:
            guard let ours = keys.ed25519PublicKey, bytes == ours else { throw .modelKeyMismatch(.dv) }
        }
    }

    /// The key answers are sealed to: the secp256k1 point, or the Montgomery form of the client's ed25519 key.
    static func clientKey(_ bytes: [UInt8], algo: SigningAlgo) throws(E2EEError) -> E2EEPublicKey {
        do {
            switch algo {
            case .ecdsa: return try .secp256k1(raw: bytes)
            case .ed25519: return .x25519(try Ed25519Montgomery.x25519PublicKey(ed25519: bytes))
            }
        } catch {
            throw .invalidPublicKey(.dv)
        }
    }

    // MARK: Freshness and replay (v2)

    /// v2 only: the timestamp inside `window` of `now`, then `(algo, ts, nonce)` claimed once. DV claims after
    /// the request fields decrypt, so call this then. The claim lives until the timestamp leaves the window.
    package func claimNonce(now: Int64, window: Int64 = 300, store: some E2EEReplayStore) async throws(E2EEError) {
        guard self.version == 2, let nonce = self.nonce, let timestamp = self.timestamp else { return }
        let (skew, overflow) = now.subtractingReportingOverflow(timestamp)
        guard !overflow, skew.magnitude <= window.magnitude else { throw .invalidTimestamp(.dv) }
        let key = "dv:\(self.algo.rawValue):\(timestamp):\(nonce)"
        switch await store.claim(key, expiresAt: timestamp + window + 1, now: now) {
        case .fresh: return
        case .replayed: throw .replayDetected(.dv)
        case .full: throw .replayCapacity(.dv)
        }
    }

    // MARK: AAD (v2)

    /// `v2|req|…` (docs/E2EE.md); `contentIndex` nil for a string `content`; `[]` in v1.
    package func requestAAD(model: String, messageIndex: Int, contentIndex: Int?) -> [UInt8] {
        guard self.version == 2, let nonce = self.nonce, let timestamp = self.timestamp else { return [] }
        return E2EEAAD.dvRequest(
            algo: self.algo, model: model, messageIndex: messageIndex, contentIndex: contentIndex, nonce: nonce,
            timestamp: timestamp)
    }

    /// `v2|resp|…`; `model` is the RESPONSE's model field; `[]` in v1.
    package func responseAAD(model: String, id: String, choice: Int, field: String) -> [UInt8] {
        guard self.version == 2, let nonce = self.nonce, let timestamp = self.timestamp else { return [] }
        return E2EEAAD.dvResponse(
            algo: self.algo, model: model, id: id, choice: choice, field: field, nonce: nonce, timestamp: timestamp)
    }

    // MARK: Fields

    /// Decrypts a `messages[m].content` string (`contentIndex` nil) or a `text` part (`contentIndex` its index).
    /// `model` is the request's top-level `model` as text (DV uses `str(model)`, "" when absent).
    ///
    /// A plaintext that parses as a JSON array is meant to become structured content again: the caller does that.
    package func decryptRequestField(
        _ hex: String, model: String, messageIndex: Int, contentIndex: Int?
    ) throws(E2EEError) -> String {
        try self.open(hex, aad: self.requestAAD(model: model, messageIndex: messageIndex, contentIndex: contentIndex))
    }

    /// Opens one field with an explicit AAD (`[]` in v1). As DV: not hex (or empty) or an invalid ephemeral key
    /// is `invalid_e2ee_request`, too short or a failed tag `e2ee_decryption_failed`.
    func open(_ hex: String, aad: [UInt8]) throws(E2EEError) -> String {
        guard let blob = FieldHex.decode(hex, allowPrefix: false), !blob.isEmpty else {
            throw .malformedField(.dv)
        }
        let suite = Self.suite(self.algo)
        guard blob.count >= suite.overhead else { throw .decryptionFailed(.dv) }
        let secret: E2EESecretKey?
        switch self.algo {
        case .ecdsa: secret = self.keys.ecdsa.map(E2EESecretKey.secp256k1)
        case .ed25519: secret = self.keys.x25519
        }
        guard let secret else { throw .invalidSigningAlgo(.dv) }
        let plaintext: [UInt8]
        do {
            plaintext = try suite.open(blob, recipient: secret, aad: aad)
        } catch {
            throw error == .authentication ? .decryptionFailed(.dv) : .malformedField(.dv)
        }
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw .invalidPlaintext(.dv) }
        return text
    }

    /// Encrypts `content` / `reasoning_content` of choice `choice` (message or delta). DV drops an empty
    /// streamed `delta.content` before encrypting; that is the caller's, as is the response's `model` and `id`.
    package func encryptResponseField(
        _ plaintext: String, model: String, id: String, choice: Int, field: String
    ) throws(E2EEError) -> String {
        let aad = self.responseAAD(model: model, id: id, choice: choice, field: field)
        guard let sealed = try? self.responseSealer.seal(plaintext.utf8, aad: aad) else {
            throw .invalidPublicKey(.dv)
        }
        return FieldHex.encode(sealed)
    }

    /// `X-E2EE-Applied`, `X-E2EE-Version`, and the algorithm under both names DV uses (`-Algo` in its code,
    /// `-Alg` in its document).
    package var responseHeaders: [(name: String, value: String)] {
        [
            ("X-E2EE-Applied", "true"), ("X-E2EE-Version", String(self.version)),
            ("X-E2EE-Algo", self.algo.rawValue), ("X-E2EE-Alg", self.algo.rawValue),
        ]
    }
}
