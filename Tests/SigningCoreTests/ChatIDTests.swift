import SigningCore
import Testing

@Suite("ChatID")
struct ChatIDTests {
    private static let composed = "chatcmpl-caf\u{E9}"
    private static let decomposed = "chatcmpl-cafe\u{301}"

    @Test("a ChatID is its string's UTF-8 bytes, compared and hashed as bytes")
    func bytes() {
        #expect(ChatID(Self.composed).bytes == [UInt8]("chatcmpl-caf".utf8) + [0xC3, 0xA9])
        #expect(ChatID(Self.decomposed).bytes == [UInt8]("chatcmpl-cafe".utf8) + [0xCC, 0x81])
        #expect(Set([ChatID(Self.composed), ChatID(Self.decomposed), ChatID(Self.composed)]).count == 2)
        #expect(ChatID("a") == ChatID(bytes: [0x61]))
        #expect(ChatID("chat-\(1)") == ChatID("chat-1"))
        #expect(ChatID(Self.decomposed).description == Self.decomposed)
        #expect(ChatID(Self.decomposed).count == 15)
    }

    @Test("ids from JSON keep their bytes: the extractor does not normalise, escaped or raw")
    func extractorKeepsBytes() throws {
        let payloads: [(json: String, id: String)] = [
            (#"{"id":"chatcmpl-caf\#u{E9}"}"#, Self.composed),
            (#"{"id":"chatcmpl-cafe\#u{301}"}"#, Self.decomposed),
            (#"{"id":"chatcmpl-caf\u00e9"}"#, Self.composed),
            (#"{"id":"chatcmpl-cafe\u0301"}"#, Self.decomposed),
        ]
        for (json, id) in payloads {
            let extracted = try #require(Array(json.utf8).withUnsafeBytes { TopLevelIDExtractor.stringID(in: $0) })
            #expect(ChatID(extracted) == ChatID(id), "\(json)")
            #expect(ChatID(extracted).bytes == Array(id.utf8), "\(json)")
        }
    }
}
