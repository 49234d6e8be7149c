/// Which E2EE dialect a request speaks, decided from its headers alone (docs/E2EE.md, "Dispatch").
package enum E2EEDialect: Hashable, Sendable {
    case dvV1
    case dvV2
    case nearV1
    case nearV2
    /// `X-Signing-Algo` without any version header: DV v1 and NEAR v1 agree for ecdsa; for ed25519 the first
    /// encrypted field tells (see `LegacyV1Context`).
    case legacyV1
    case aciV2

    /// The dialect of `headers`, `nil` for plaintext, or the 400 for headers no dialect can honour.
    ///
    /// First match wins, as docs/E2EE.md orders it. Beyond it, a version header that belongs to one dialect
    /// next to another dialect's marks the request ambiguous (`invalid_e2ee_request`), and NEAR-only headers
    /// without `X-Signing-Algo` are refused in NEAR's vocabulary rather than ignored. A repeated E2EE header is
    /// refused too (`invalid_e2ee_request`).
    package static func detect(_ headers: E2EEHeaders) throws(E2EEError) -> Self? {
        if headers.hasDuplicates { throw .mixedHeaders(headers.signingAlgo == nil ? .aci : .dv) }
        let nearMarker = headers.encryptionVersion != nil || headers.encryptAllFields != nil
        guard let _ = headers.signingAlgo else {
            let aciMarker =
                headers.e2eeVersion != nil || headers.clientPublicKey != nil || headers.modelPublicKey != nil
                || headers.nonce != nil || headers.timestamp != nil
            if aciMarker {
                if nearMarker { throw .mixedHeaders(.aci) }
                return .aciV2
            }
            if nearMarker { throw .headerMissing(.near) }
            return nil
        }
        let version = headers.e2eeVersion?.trimmed
        if version != nil, headers.encryptionVersion != nil { throw .mixedHeaders(.dv) }
        let hasNonce = headers.nonce != nil
        let hasTimestamp = headers.timestamp != nil
        if version == "2" || hasNonce || hasTimestamp {
            if hasNonce != hasTimestamp { throw .headerMissing(.dv) }
            if nearMarker { throw .mixedHeaders(.dv) }
            return .dvV2
        }
        if let version {
            guard version == "1" else { throw .invalidVersion(.dv) }
            if nearMarker { throw .mixedHeaders(.dv) }
            return .dvV1
        }
        if let encryptionVersion = headers.encryptionVersion?.trimmed {
            switch encryptionVersion {
            case "1": return .nearV1
            case "2": return .nearV2
            default: throw .invalidVersion(.near)
            }
        }
        return headers.encryptAllFields != nil ? .nearV1 : .legacyV1
    }
}

extension String {
    /// Without leading and trailing ASCII spaces and tabs (HTTP's optional whitespace), in one pass over UTF-8.
    var trimmed: String {
        let utf8 = self.utf8
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = utf8.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = utf8.lastIndex(where: { !isSpace($0) })!
        if first == utf8.startIndex, utf8.index(after: last) == utf8.endIndex { return self }
        return String(self[first...last])
    }
}
