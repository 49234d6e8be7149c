import SigningCore
import SigningCrypto
import Testing

@Suite("ExchangeSigner and SignatureRecord")
struct ExchangeSignerTests {
    private static let requestHash = "5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84"
    private static let responseHash = "83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538"

    @Test("one algorithm signed alone (lazy) gives the bytes sign() gives (eager)", arguments: SigningTextFormat.allCases)
    func lazyEqualsEager(format: SigningTextFormat) throws {
        let signer = ExchangeSigner(keys: .dev(seed: "signer-tests"), format: format, modelName: "tiny")
        let eager = try signer.sign(requestHash: Self.requestHash, responseHash: Self.responseHash)
        let text = signer.text(requestHash: Self.requestHash, responseHash: Self.responseHash)
        #expect(signer.text(of: eager) == text)
        #expect(eager.isComplete)
        #expect(try signer.signature(.ecdsa, over: text) == eager[.ecdsa])
        #expect(try signer.signature(.ed25519, over: text) == eager[.ed25519])
        // Each algorithm filled in alone on a hashes-only record gives the same bytes.
        var lazy = SignatureRecord(requestHash: eager.requestHash, responseHash: eager.responseHash)
        try signer.sign(.ed25519, of: &lazy)
        #expect(lazy.ed25519Signature == eager.ed25519Signature && lazy.ecdsaSignature == nil)
        try signer.sign(.ecdsa, of: &lazy)
        #expect(lazy == eager)
        // A fresh signer from the same seed (a restart) signs the same bytes.
        let again = ExchangeSigner(keys: .dev(seed: "signer-tests"), format: format, modelName: "tiny")
        #expect(try again.sign(requestHash: Self.requestHash, responseHash: Self.responseHash) == eager)
    }

    @Test("the signature for one algorithm is that algorithm's: EIP-191 recovers the key, ed25519 is 64 bytes")
    func signaturesAreTheRightAlgorithm() throws {
        let keys = SigningKeys.dev(seed: "signer-tests")
        let signer = ExchangeSigner(keys: keys, format: .plain, modelName: "tiny")
        let text = signer.text(requestHash: Self.requestHash, responseHash: Self.responseHash)
        #expect(text == "\(Self.requestHash):\(Self.responseHash)")
        let ecdsa = try signer.signature(.ecdsa, over: text)
        #expect(try PersonalSign.recoverAddress(message: Array(text.utf8), signature: ecdsa) == keys.ecdsaAddress)
        let ed25519 = try signer.signature(.ed25519, over: text)
        #expect(try Hex.decode(ed25519).count == 64)
        #expect(ed25519 != String(ecdsa.dropFirst(2).prefix(128)))
        // A different text gives different signatures.
        #expect(try signer.signature(.ecdsa, over: text + "0") != ecdsa)
        #expect(try signer.signature(.ed25519, over: text + "0") != ed25519)
    }

    @Test("a record starts with the hashes only and is filled one algorithm at a time")
    func recordFilledPerAlgorithm() throws {
        let request = try #require(FixedBytes<32>(lowercaseHex: Self.requestHash))
        let response = try #require(FixedBytes<32>(lowercaseHex: Self.responseHash))
        var record = SignatureRecord(requestHash: request, responseHash: response)
        #expect(record[.ecdsa] == nil && record[.ed25519] == nil)
        #expect(!record.hasSignature(.ecdsa) && !record.hasSignature(.ed25519))
        #expect(!record.isComplete)
        let ed25519 = try #require(FixedBytes<64>(Array(0..<64)))
        let ecdsa = try #require(FixedBytes<65>(Array(100..<165)))
        var other = SignatureRecord(requestHash: request, responseHash: response, ecdsaSignature: ecdsa, ed25519Signature: ed25519)
        record.copySignature(.ed25519, from: other)
        #expect(record[.ed25519] == Hex.encode(Array(UInt8(0)..<64)))
        #expect(record[.ecdsa] == nil && !record.isComplete)
        record.copySignature(.ecdsa, from: other)
        #expect(record[.ecdsa] == "0x" + Hex.encode(Array(UInt8(100)..<165)))
        #expect(record.isComplete)
        #expect(record == other)
        // Records of another exchange are told apart by their hashes.
        other.responseHash = request
        #expect(!record.coversSameExchange(as: other))
        #expect(record != other)
    }

    @Test("hashes are kept as bytes and read back as the very hex signed; anything else is refused")
    func hashBytes() throws {
        let request = try #require(FixedBytes<32>(lowercaseHex: Self.requestHash))
        #expect(request.hex == Self.requestHash)
        #expect(request.bytes == (try Hex.decode(Self.requestHash)))
        let signer = ExchangeSigner(keys: .dev(seed: "signer-tests"), format: .model, modelName: "m:1")
        let record = try signer.sign(requestHash: Self.requestHash, responseHash: Self.responseHash)
        #expect(signer.text(of: record) == "m:1:\(Self.requestHash):\(Self.responseHash)")
        // Uppercase would not come back unchanged, so it is refused rather than silently lowercased.
        for bad in [Self.requestHash.uppercased(), String(Self.requestHash.dropLast()), Self.requestHash + "0",
                    "0x" + Self.requestHash.dropFirst(2), String(Self.requestHash.dropLast()) + "g", ""] {
            #expect(FixedBytes<32>(lowercaseHex: bad) == nil, "\(bad)")
            #expect(throws: SigningCryptoError.invalidHex) {
                try signer.sign(requestHash: bad, responseHash: Self.responseHash)
            }
        }
        #expect(FixedBytes<32>(Array(repeating: 0, count: 31)) == nil)
        #expect(FixedBytes<32>(Array(repeating: 0, count: 33)) == nil)
    }

    @Test("a record is 195 bytes inline: no hex strings, no heap allocation of its own")
    func recordSize() {
        #expect(MemoryLayout<SignatureRecord>.size == 32 + 32 + (65 + 1) + (64 + 1))
    }

    @Test("algorithm and mode names are the query and environment spellings")
    func names() {
        #expect(SignatureAlgorithm(rawValue: "ecdsa") == .ecdsa)
        #expect(SignatureAlgorithm(rawValue: "ed25519") == .ed25519)
        #expect(SignatureAlgorithm(rawValue: "ECDSA") == nil)
        #expect(SignatureAlgorithm(rawValue: "") == nil)
        #expect(SigningMode(rawValue: "eager") == .eager)
        #expect(SigningMode(rawValue: "lazy") == .lazy)
        #expect(SigningMode(rawValue: "later") == nil)
    }
}
