/// `X-Signing-Algo` with no version header: DV v1 or NEAR v1.
///
/// Without `X-Model-Pub-Key` only NEAR fits (DV requires it). With it, both do: for ecdsa their fields are the
/// same bytes; for ed25519 DV uses AES-GCM with a 12-byte nonce and NEAR a NaCl box with a 24-byte nonce, so the
/// first request field tells them apart by trial (an AEAD tag cannot verify under the wrong construction), and
/// the answer follows the client's dialect. Errors take DV's types here (the client sent DV's full header set).
package struct LegacyV1Context: Sendable {
    package enum Resolution: Hashable, Sendable {
        case undecided
        case dv
        case near
    }

    let dv: DVContext
    let near: NearContext
    /// What the request fields showed (ecdsa never needs to decide).
    package private(set) var resolution: Resolution = .undecided

    package var algo: SigningAlgo { self.dv.algo }

    init(dv: DVContext, near: NearContext) {
        self.dv = dv
        self.near = near
    }

    /// Decrypts one request field; the first ed25519 field fixes the dialect.
    /// An empty field stays empty (NEAR's rule; DV clients never send one).
    package mutating func decryptField(_ hex: String) throws(E2EEError) -> String {
        if hex.isEmpty { return "" }
        if self.algo == .ecdsa || self.resolution == .dv { return try self.dv.open(hex, aad: []) }
        if self.resolution == .near {
            do { return try self.near.decryptField(hex) } catch { throw .decryptionFailed(.dv) }
        }
        if let text = try? self.dv.open(hex, aad: []) {
            self.resolution = .dv
            return text
        }
        do {
            let text = try self.near.decryptField(hex)
            self.resolution = .near
            return text
        } catch {
            throw .decryptionFailed(.dv)
        }
    }

    /// Encrypts one answer field in the dialect the request showed (DV's AES-GCM when nothing showed).
    package func encryptField(_ plaintext: String) throws(E2EEError) -> String {
        if self.algo == .ed25519, self.resolution == .near {
            do { return try self.near.encryptField(plaintext) } catch { throw .invalidPublicKey(.dv) }
        }
        return try self.dv.encryptResponseField(plaintext, model: "", id: "", choice: 0, field: "")
    }

    /// DV's headers when the answer is DV's; NEAR sends none.
    package var responseHeaders: [(name: String, value: String)] {
        self.algo == .ed25519 && self.resolution == .near ? [] : self.dv.responseHeaders
    }
}
