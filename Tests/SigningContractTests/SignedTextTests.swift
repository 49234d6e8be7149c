import SigningContract
import SigningCrypto
import Testing

@Suite("SignedText: build and parse")
struct SignedTextTests {
    static let request = "5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84"
    static let response = "83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538"

    @Test("plain and model texts round-trip through parse", arguments: [nil, "tiny", "", "org/model:v1", "a:b:c", "ünïcode"])
    func roundTrip(model: String?) throws {
        let built = SignedText(model: model, requestHash: Self.request, responseHash: Self.response)
        let parsed = try SignedText.parse(built.text).get()
        #expect(parsed == built)
        #expect(parsed.text == built.text)
    }

    @Test("the formats lay out the text as docs/API.md says")
    func formats() {
        #expect(SigningTextFormat.plain.text(model: "tiny", requestHash: Self.request, responseHash: Self.response)
            == "\(Self.request):\(Self.response)")
        #expect(SigningTextFormat.model.text(model: "tiny", requestHash: Self.request, responseHash: Self.response)
            == "tiny:\(Self.request):\(Self.response)")
        #expect(SigningTextFormat(rawValue: "plain") == .plain && SigningTextFormat(rawValue: "model") == .model)
        #expect(SigningTextFormat(rawValue: "Plain") == nil)
    }

    @Test("the text of exact bytes is the SHA-256 of each, lowercase hex")
    func ofBytes() throws {
        // sha256("") and sha256("abc"), the FIPS 180-2 vectors.
        let text = SignedText(request: [UInt8](), response: Array("abc".utf8))
        #expect(text.text == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855:"
            + "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // A non-contiguous collection hashes the same bytes.
        #expect(SignedText.sha256Hex(Array("abc".utf8).lazy.map { $0 }) == SignedText.sha256Hex(Array("abc".utf8)))
        #expect(SignedText(request: [1, 2], response: [3], model: "m").model == "m")
    }

    @Test("malformed texts are refused with the field named", arguments: [
        ("", "no ':'"),
        ("abc", "no ':'"),
        ("\(request)", "no ':'"),
        (":", "request hash"),
        ("\(request):", "response hash"),
        (":\(response)", "request hash"),
        ("\(request.uppercased()):\(response)", "request hash"),
        ("\(request):\(response.uppercased())", "response hash"),
        ("\(request.dropLast()):\(response)", "request hash"),
        ("\(request):\(response)0", "response hash"),
        ("\(request):\(response)\n", "response hash"),
        (" \(request):\(response)", "request hash"),
        ("0x\(request.dropFirst(2)):\(response)", "request hash"),
        ("\(request):\(response):", "response hash"),
        ("\(request)::\(response)", "request hash"),
        ("\(request.dropLast())g:\(response)", "request hash"),
    ])
    func malformed(text: String, reason: String) {
        #expect(throws: SignedTextError.self) { try SignedText.parse(text).get() }
        if case .failure(let error) = SignedText.parse(text) {
            let expected = reason == "no ':'" ? "no ':'-separated" : reason.replacingOccurrences(of: " hash", with: " hash field")
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("a model name with ':' keeps every colon; an empty model is not the plain format")
    func modelEdges() throws {
        let parsed = try SignedText.parse("a:b::\(Self.request):\(Self.response)").get()
        #expect(parsed.model == "a:b:")
        #expect(try SignedText.parse(":\(Self.request):\(Self.response)").get().model == "")
        #expect(try SignedText.parse("\(Self.request):\(Self.response)").get().model == nil)
    }

    @Test("algorithm names are exact and lowercase")
    func algorithmNames() {
        #expect(SignatureAlgorithm.allCases.map(\.rawValue) == ["ecdsa", "ed25519"])
        #expect(SignatureAlgorithm(rawValue: "ECDSA") == nil)
        #expect(SignatureAlgorithm(rawValue: "secp256k1") == nil)
    }
}
