import NIOCore
import NIOHTTP1
import SigningCore

/// A signed answer's own proof, carried in the answer so that no `/v1/signature` lookup is needed
/// (docs/API.md, Inline receipts): the same signed text and signatures the lookup returns.
package struct InlineProof: Sendable, Equatable {
    package var text: String
    package var ecdsaSignature: String
    package var ecdsaAddress: String
    package var ed25519Signature: String
    package var ed25519PublicKey: String

    /// The response headers of a non-streamed answer; its body, and so its hash, is unchanged.
    /// None when the signed text holds a byte a header cannot carry (a model name outside printable
    /// ASCII, say): the record is still served by `/v1/signature`.
    package func add(to headers: inout HTTPHeaders) {
        guard text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return }
        headers.add(name: InlineReceiptFormat.textHeader, value: text)
        headers.add(name: InlineReceiptFormat.ecdsaSignatureHeader, value: ecdsaSignature)
        headers.add(name: InlineReceiptFormat.ecdsaAddressHeader, value: ecdsaAddress)
        headers.add(name: InlineReceiptFormat.ed25519SignatureHeader, value: ed25519Signature)
        headers.add(name: InlineReceiptFormat.ed25519PublicKeyHeader, value: ed25519PublicKey)
    }

    /// The lines a stream carries after its terminal event: one SSE comment per algorithm, each the
    /// JSON `GET /v1/signature/{id}?signing_algo=…` answers, then a blank line. SSE parsers ignore comments.
    package var streamComment: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(2 * text.utf8.count + 400)
        for (signature, address, algorithm) in [
            (ecdsaSignature, ecdsaAddress, SignatureAlgorithm.ecdsa), (ed25519Signature, ed25519PublicKey, .ed25519),
        ] {
            var record = Self.recordJSON(text: text, signature: signature, address: address, algorithm: algorithm)
            buffer.writeString(InlineReceiptFormat.streamLinePrefix)
            buffer.writeBuffer(&record)
            buffer.writeString("\n")
        }
        buffer.writeString("\n")
        return buffer
    }

    /// One algorithm's record as `GET /v1/signature/{id}` answers it, and as a stream's receipt line
    /// carries it (then followed by a newline).
    package static func recordJSON(text: String, signature: String, address: String, algorithm: SignatureAlgorithm) -> ByteBuffer {
        var body = ByteBuffer()
        body.reserveCapacity(text.utf8.count + signature.utf8.count + 160)
        body.writeString(#"{"text":"#)
        body.writeString(JSONString.quoted(text))
        body.writeString(#","signature":""#)
        body.writeString(signature)
        body.writeString(#"","signing_address":""#)
        body.writeString(address)
        body.writeString(#"","signing_algo":""#)
        body.writeString(algorithm.rawValue)
        body.writeString(#""}"#)
        return body
    }
}
