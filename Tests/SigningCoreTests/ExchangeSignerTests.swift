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
        #expect(eager.text == text)
        #expect(eager.isComplete)
        #expect(try signer.signature(.ecdsa, over: text) == eager.ecdsaSignature)
        #expect(try signer.signature(.ed25519, over: text) == eager.ed25519Signature)
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

    @Test("a record starts with the text only and is filled one algorithm at a time")
    func recordSubscript() {
        var record = SignatureRecord(text: "a:b")
        #expect(record[.ecdsa] == nil)
        #expect(record[.ed25519] == nil)
        #expect(!record.isComplete)
        record[.ed25519] = "ed"
        #expect(record.ed25519Signature == "ed")
        #expect(record[.ecdsa] == nil)
        #expect(!record.isComplete)
        record[.ecdsa] = "0xec"
        #expect(record.ecdsaSignature == "0xec")
        #expect(record.isComplete)
        #expect(record == SignatureRecord(text: "a:b", ecdsaSignature: "0xec", ed25519Signature: "ed"))
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
