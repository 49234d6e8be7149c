import Testing

@testable import E2EE

@Suite struct JCSTests {
    @Test func sortsAndEscapesLikeECMAScript() {
        let bytes = JCS.object([
            ("b", .string("q\"\\\u{08}\u{0C}\n\r\t\u{01}\u{1F}\u{7F}é\u{2028}😀")), ("a", .integer(-1)), ("é", .integer(0)), ("Z", .string("")),
        ])
        #expect(String(decoding: bytes, as: UTF8.self) == "{\"Z\":\"\",\"a\":-1,\"b\":\"q\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\u{7F}é\u{2028}😀\",\"é\":0}")
    }
}
