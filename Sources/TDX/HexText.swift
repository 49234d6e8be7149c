import SigningCrypto

/// Hex for the JSON fields of event logs, with errors that name the field.
enum HexText {
    static func decode(_ text: some StringProtocol, field: String) throws(TDXError) -> [UInt8] {
        do {
            return try Hex.decode(text)
        } catch {
            throw .malformed("\(field): not an even-length hex string")
        }
    }

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Hex.encode(bytes)
    }
}
