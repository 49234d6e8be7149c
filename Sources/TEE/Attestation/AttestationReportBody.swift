import SigningCore

/// The JSON text of an attestation report (docs/API.md, Response fields), including `all_attestations`.
enum AttestationReportBody {
    /// Everything one report shows, already chosen for the requested algorithm and layout.
    struct Fields: Sendable {
        var modelName: String
        var signingAddress: String
        var signingAlgo: String
        var signingPublicKey: String
        var requestNonce: String
        var quote: DstackQuote
        var info: DstackInfo
        var nvidiaPayload: String
        var gpuStatus: GPUEvidence.Status
        var tlsCertificateFingerprint: String?
        var keyProvenance: KeyProvenance?
        var mode: AttestationMode
        /// The keys E2EE clients encrypt to (empty: the member is left out).
        var e2eePublicKeys: [E2EEPublicKeyEntry] = []
    }

    /// `{<fields>, "all_attestations": [{<fields>}]}`: the inner copy is the same object without the array.
    static func json(fields: Fields) -> [UInt8] {
        let capacity = fields.quote.quoteHex.utf8.count * 2 + fields.quote.eventLog.utf8.count
            + fields.nvidiaPayload.utf8.count + fields.info.reportObjectJSON.count + 1024
        var object = AttestationJSONObject(reservingCapacity: capacity)
        object.string("model_name", fields.modelName)
        object.string("signing_address", fields.signingAddress)
        object.string("signing_algo", fields.signingAlgo)
        object.string("signing_public_key", fields.signingPublicKey)
        object.string("request_nonce", fields.requestNonce)
        // Verbatim agent values: hex quote twice (Python's `intel_quote` and `quote`), strings as strings.
        object.string("intel_quote", fields.quote.quoteHex)
        object.string("quote", fields.quote.quoteHex)
        object.string("event_log", fields.quote.eventLog)
        // Agents before vm_config existed: an empty string keeps the field's type.
        object.string("vm_config", fields.quote.vmConfig ?? "")
        object.string("nvidia_payload", fields.nvidiaPayload)
        object.raw("info", fields.info.reportObjectJSON.isEmpty ? Array("{}".utf8) : fields.info.reportObjectJSON)
        if let fingerprint = fields.tlsCertificateFingerprint {
            object.string("tls_cert_fingerprint", fingerprint)
        }
        if let provenance = fields.keyProvenance {
            object.raw("key_provenance", provenanceJSON(provenance, fallbackAppID: fields.info.appID))
        }
        object.string("mode", fields.mode.rawValue)
        if !fields.e2eePublicKeys.isEmpty {
            object.raw("e2ee_public_keys", E2EEPublicKeyEntry.json(fields.e2eePublicKeys))
        }
        if let status = gpuStatusJSON(fields.gpuStatus) {
            object.raw("gpu_evidence", status)
        }

        let single = object.json
        var all: [UInt8] = [UInt8(ascii: "[")]
        all += single
        all.append(UInt8(ascii: "]"))
        object.raw("all_attestations", all)
        return object.json
    }

    /// `{"path","purpose","algorithm","public_key","signature_chain","app_id"}`; `app_id` null when unknown.
    static func provenanceJSON(_ provenance: KeyProvenance, fallbackAppID: String?) -> [UInt8] {
        var object = AttestationJSONObject()
        object.string("path", provenance.path)
        object.string("purpose", provenance.purpose)
        object.string("algorithm", provenance.algorithm)
        object.string("public_key", provenance.publicKey)
        object.strings("signature_chain", provenance.signatureChain)
        if let appID = provenance.appID ?? fallbackAppID {
            object.string("app_id", appID)
        } else {
            object.null("app_id")
        }
        return object.json
    }

    /// `{"status": "canned"|"unavailable", "reason": ...}`; nil for evidence collected from GPUs.
    static func gpuStatusJSON(_ status: GPUEvidence.Status) -> [UInt8]? {
        var object = AttestationJSONObject()
        switch status {
        case .collected:
            return nil
        case .canned:
            object.string("status", "canned")
            object.string("reason", "GPU_NO_HW_MODE is set: synthetic evidence, not from a GPU")
        case .unavailable(let reason):
            object.string("status", "unavailable")
            object.string("reason", reason)
        }
        return object.json
    }
}
