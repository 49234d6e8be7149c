/// Why no attestation report was produced: the HTTP status, envelope `type` and `message` (docs/API.md, Errors).
///
/// Messages are shown to clients: they name the failing backend but never carry keys or request data.
package struct AttestationError: Error, CustomStringConvertible, Hashable {
    package var status: Int
    package var type: String
    package var message: String

    private init(status: Int, type: String, message: String) {
        self.status = status
        self.type = type
        self.message = message
    }

    /// 400 `invalid_signing_algo`, the same message as the signature route's.
    package static let invalidSigningAlgo = AttestationError(
        status: 400,
        type: "invalid_signing_algo",
        message: "Invalid signing algorithm. Must be 'ed25519' or 'ecdsa'"
    )
    /// 400 `bad_request`: the nonce is not hex.
    package static let nonceNotHex = AttestationError(status: 400, type: "bad_request", message: "Nonce must be hex-encoded")
    /// 400 `bad_request`: the nonce is hex but not 32 bytes.
    package static let nonceWrongLength = AttestationError(status: 400, type: "bad_request", message: "Nonce must be 32 bytes")
    /// 404 `not_found`: `signing_address` names another instance.
    package static let signingAddressNotFound = AttestationError(
        status: 404,
        type: "not_found",
        message: "Signing address not found on this server"
    )
    /// 429 `rate_limited`: too many fresh reports waiting.
    package static let tooManyPending = AttestationError(
        status: 429,
        type: "rate_limited",
        message: "Too many attestation reports in progress, retry later"
    )
    /// 503 `service_unavailable`: no agent because keys are development keys.
    package static let devModeUnavailable = AttestationError(
        status: 503,
        type: "service_unavailable",
        message: "Attestation is unavailable in dev mode: the signing keys are not TEE-derived"
    )

    /// 503 `service_unavailable` naming the backend that failed (`dstack agent`, `GPU evidence`).
    package static func serviceUnavailable(_ message: String) -> AttestationError {
        AttestationError(status: 503, type: "service_unavailable", message: message)
    }

    /// 500 `server_error` with a fixed message; details belong in logs.
    package static let internalError = AttestationError(status: 500, type: "server_error", message: "Internal server error")

    package var description: String { "\(status) \(type): \(message)" }
}
