/// How an answer carries its own receipt (docs/API.md, Inline receipts): the names the proxy writes
/// and the verifier reads, defined once.
package enum InlineReceiptFormat {
    /// The request header that asks for a receipt, and its one value.
    package static let requestHeader = "X-Signing-Receipt"
    package static let requestValue = "inline"

    /// A non-streamed answer's receipt headers.
    package static let textHeader = "X-Signature-Text"
    package static let ecdsaSignatureHeader = "X-Signature-Ecdsa"
    package static let ecdsaAddressHeader = "X-Signing-Address"
    package static let ed25519SignatureHeader = "X-Signature-Ed25519"
    package static let ed25519PublicKeyHeader = "X-Signing-Public-Key-Ed25519"

    /// What starts each of a stream's receipt lines (an SSE comment), before one signature record's JSON.
    package static let streamLinePrefix = ": signature "
}
