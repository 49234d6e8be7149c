/// A parsed Intel TDX DCAP quote, version 4 or 5.
///
/// Parsing follows the size fields only; trailing zero bytes after the authentication data (dstack
/// pads its hex) are ignored. No signature is checked here: see the verifier for DCAP.
package struct TDXQuote: Sendable, Hashable {
    /// A TD report field that can be read or patched by byte range.
    package enum Field: Sendable, Hashable {
        case teeTCBSVN, mrSeam, mrSignerSeam, seamAttributes, tdAttributes, xfam
        case mrTD, mrConfigID, mrOwner, mrOwnerConfig
        case rtmr(Int)
        case reportData

        /// Offset and length relative to the start of the TD report body.
        var bodyRange: Range<Int> {
            switch self {
            case .teeTCBSVN: 0..<16
            case .mrSeam: 16..<64
            case .mrSignerSeam: 64..<112
            case .seamAttributes: 112..<120
            case .tdAttributes: 120..<128
            case .xfam: 128..<136
            case .mrTD: 136..<184
            case .mrConfigID: 184..<232
            case .mrOwner: 232..<280
            case .mrOwnerConfig: 280..<328
            case .rtmr(let index): (328 + 48 * index)..<(376 + 48 * index)
            case .reportData: 520..<584
            }
        }
    }

    /// Intel's QE vendor id, `939a7233f79c4ca9940a0db3957f0607`.
    package static let intelQEVendorID: [UInt8] = [
        0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
    ]
    /// TEE type of TDX in the quote header.
    package static let teeTypeTDX: UInt32 = 0x81
    /// Attestation key type ECDSA-256 with P-256.
    package static let attestationKeyTypeECDSAP256: UInt16 = 2

    static let headerLength = 48
    static let tdReport10Length = 584
    static let tdReport15Length = 648

    /// The input bytes, including any trailing padding (patching keeps it).
    package let bytes: [UInt8]
    /// Length of the meaningful part: header, body, size field and authentication data.
    package let length: Int
    /// Quote format version (4 or 5).
    package let version: UInt16
    /// Attestation key type (2 = ECDSA P-256).
    package let attestationKeyType: UInt16
    /// TEE type (0x81 = TDX).
    package let teeType: UInt32
    /// QE vendor id (16 bytes).
    package let qeVendorID: [UInt8]
    /// v5 body type (2 = TD 1.0, 3 = TD 1.5); `nil` for v4.
    package let bodyType: UInt16?
    /// Absolute offset of the TD report body (48 for v4, 54 for v5).
    package let bodyOffset: Int
    /// Length of the TD report body (584 or 648).
    package let bodySize: Int
    /// The parsed authentication data.
    package let authData: TDXQuoteAuthData

    /// Parses a quote from raw bytes.
    /// - Throws: `TDXError` on a short or inconsistent quote, an unknown version, or non-zero
    ///   bytes after the authentication data.
    package init(bytes input: some Collection<UInt8>) throws(TDXError) {
        let bytes = Array(input)
        guard bytes.count >= Self.headerLength else {
            throw .truncated("quote header", need: Self.headerLength, have: bytes.count)
        }
        let version = bytes.readLE16(at: 0)
        let bodyOffset: Int
        let bodySize: Int
        var bodyType: UInt16?
        switch version {
        case 4:
            bodyOffset = Self.headerLength
            bodySize = Self.tdReport10Length
        case 5:
            guard bytes.count >= Self.headerLength + 6 else {
                throw .truncated("quote v5 body descriptor", need: Self.headerLength + 6, have: bytes.count)
            }
            let type = bytes.readLE16(at: 48)
            let size = Int(bytes.readLE32(at: 50))
            switch (type, size) {
            case (2, Self.tdReport10Length), (3, Self.tdReport15Length): break
            case (1, _): throw .unsupported("quote v5 body type 1 is an SGX enclave report, not a TD report")
            default: throw .unsupported("quote v5 body type \(type) with size \(size) is not a TD report")
            }
            bodyType = type
            bodyOffset = Self.headerLength + 6
            bodySize = size
        default:
            throw .unsupported("quote version \(version) (expected 4 or 5)")
        }
        let sizeOffset = bodyOffset + bodySize
        guard bytes.count >= sizeOffset + 4 else {
            throw .truncated("quote body", need: sizeOffset + 4, have: bytes.count)
        }
        let authLength = Int(bytes.readLE32(at: sizeOffset))
        let authStart = sizeOffset + 4
        guard authLength <= bytes.count - authStart else {
            throw .truncated("quote authentication data", need: authStart + authLength, have: bytes.count)
        }
        let end = authStart + authLength
        guard bytes[end...].allSatisfy({ $0 == 0 }) else {
            throw .malformed("quote has non-zero bytes after its authentication data (offset \(end))")
        }
        self.bytes = bytes
        self.length = end
        self.version = version
        self.attestationKeyType = bytes.readLE16(at: 2)
        self.teeType = bytes.readLE32(at: 4)
        self.qeVendorID = Array(bytes[12..<28])
        self.bodyType = bodyType
        self.bodyOffset = bodyOffset
        self.bodySize = bodySize
        self.authData = try TDXQuoteAuthData(quote: bytes, range: authStart..<end)
    }

    /// Absolute byte range of a TD report field in ``bytes``.
    package func range(of field: Field) -> Range<Int> {
        let relative = field.bodyRange
        return (bodyOffset + relative.lowerBound)..<(bodyOffset + relative.upperBound)
    }

    /// The bytes of a TD report field.
    package func value(of field: Field) -> [UInt8] {
        Array(bytes[range(of: field)])
    }

    /// Range covered by the quote signature: header and body (`[0..632]` for v4, `[0..54+size]` for v5).
    package var signedRange: Range<Int> { 0..<(bodyOffset + bodySize) }

    /// The bytes covered by the quote signature.
    package var signedBytes: ArraySlice<UInt8> { bytes[signedRange] }

    /// TD attributes as a little-endian integer (bit 0 = DEBUG).
    package var tdAttributes: UInt64 { bytes.readLE64(at: range(of: .tdAttributes).lowerBound) }

    /// Whether the TD runs in debug mode (the host can read its memory).
    package var isDebug: Bool { tdAttributes & 1 != 0 }

    /// MRTD (48 bytes): the initial TD contents (virtual firmware).
    package var mrTD: [UInt8] { value(of: .mrTD) }

    /// MRCONFIGID (48 bytes); dstack writes the compose-hash binding here.
    package var mrConfigID: [UInt8] { value(of: .mrConfigID) }

    /// RTMR0 to RTMR3 (48 bytes each).
    package var rtmrs: [[UInt8]] { (0..<4).map { value(of: .rtmr($0)) } }

    /// REPORTDATA (64 bytes).
    package var reportData: [UInt8] { value(of: .reportData) }

    /// A copy with one field replaced (same length), re-parsed; used by test doubles.
    /// - Throws: `TDXError` when `newValue` has the wrong length.
    package func replacing(_ field: Field, with newValue: some Collection<UInt8>) throws(TDXError) -> TDXQuote {
        let target = range(of: field)
        guard newValue.count == target.count else {
            throw .malformed("replacement for \(field) must be \(target.count) bytes, got \(newValue.count)")
        }
        var patched = bytes
        patched.replaceSubrange(target, with: newValue)
        return try TDXQuote(bytes: patched)
    }
}
