import NIOCore
import SigningCore

/// The value a signed record is stored under in Redis (docs/API.md, "Shared receipt store"): one line of JSON, its
/// fields always in this order and lowercase hex, so that `redis-cli GET` shows what was signed:
///
///     {"v":1,"request_hash":"<64 hex>","response_hash":"<64 hex>","ecdsa":"0x<130 hex>","ed25519":"<128 hex>"}
///
/// Reading accepts exactly this layout (456 bytes) and nothing else: anything another writer put there is garbage,
/// not a record to interpret leniently.
package enum SharedRecordFormat {
    private static let parts: [(prefix: String, hexDigits: Int)] = [
        (#"{"v":1,"request_hash":""#, 64),
        (#"","response_hash":""#, 64),
        (#"","ecdsa":"0x"#, 130),
        (#"","ed25519":""#, 128),
    ]
    private static let suffix = #""}"#

    /// The stored length of every value.
    package static let length = parts.reduce(suffix.utf8.count) { $0 + $1.prefix.utf8.count + $1.hexDigits }

    /// The value for a record with both signatures; nil for one without (an unsigned record never leaves the process).
    package static func encode(_ record: SignatureRecord) -> ByteBuffer? {
        guard let ecdsa = record.ecdsaSignature, let ed25519 = record.ed25519Signature else { return nil }
        let fields = [record.requestHash.hex, record.responseHash.hex, ecdsa.hex, ed25519.hex]
        var buffer = ByteBuffer()
        buffer.reserveCapacity(length)
        for (part, field) in zip(parts, fields) {
            buffer.writeString(part.prefix)
            buffer.writeString(field)
        }
        buffer.writeString(suffix)
        return buffer
    }

    /// The record in `value`, both signatures present; nil unless `value` is exactly the layout above.
    package static func decode(_ value: ByteBuffer) -> SignatureRecord? {
        guard value.readableBytes == length else { return nil }
        let bytes = value.readableBytesView
        var index = bytes.startIndex
        var fields: [String] = []
        for part in parts {
            let prefix = part.prefix.utf8
            guard bytes[index..<index + prefix.count].elementsEqual(prefix) else { return nil }
            index += prefix.count
            // FixedBytes(lowercaseHex:) refuses anything but lowercase hex digits.
            fields.append(String(decoding: bytes[index..<index + part.hexDigits], as: UTF8.self))
            index += part.hexDigits
        }
        guard bytes[index...].elementsEqual(suffix.utf8),
            let request = FixedBytes<32>(lowercaseHex: fields[0]),
            let response = FixedBytes<32>(lowercaseHex: fields[1]),
            let ecdsa = FixedBytes<65>(lowercaseHex: fields[2]),
            let ed25519 = FixedBytes<64>(lowercaseHex: fields[3])
        else { return nil }
        return SignatureRecord(requestHash: request, responseHash: response, ecdsaSignature: ecdsa, ed25519Signature: ed25519)
    }
}
