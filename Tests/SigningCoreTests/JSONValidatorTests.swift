import Foundation
import NIOCore
import SigningCore
import Testing
import TestFixtures

/// One input and the validator's expected verdict (`nil`: invalid).
struct JSONValidatorCase: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    var expected: JSONValidator.TopLevel?

    var testDescription: String { label }

    init(_ label: String, _ text: String, _ expected: JSONValidator.TopLevel?) {
        self.init(label, bytes: Array(text.utf8), expected)
    }

    init(_ label: String, bytes: [UInt8], _ expected: JSONValidator.TopLevel?) {
        self.label = label
        self.bytes = bytes
        self.expected = expected
    }

    /// A string literal whose content is `content`, raw bytes between two quotes.
    static func string(_ label: String, content: [UInt8], _ expected: JSONValidator.TopLevel?) -> JSONValidatorCase {
        JSONValidatorCase(label, bytes: [0x22] + content + [0x22], expected)
    }

    static let valid: [JSONValidatorCase] = [
        // Containers and whitespace
        .init("empty object", "{}", .object),
        .init("empty array", "[]", .array),
        .init("whitespace around", " \t\r\n{}\n\r\t ", .object),
        .init("whitespace inside empty containers", "[ \n ] ", .array),
        .init("whitespace everywhere", #"{ "a" : [ 1 , { } , [ ] ] , "b" : "c" }"#, .object),
        .init("nested", #"{"a":{"b":[true,false,null,{"c":[[[]]]}]}}"#, .object),
        .init("array of values", #"[1,"two",3.0,true,false,null,{},[]]"#, .array),
        .init("empty key", #"{"":0}"#, .object),
        .init("duplicate keys (RFC 8259 §4: SHOULD be unique, not MUST)", #"{"a":1,"a":2}"#, .object),
        // Scalars at the top level (RFC 8259 §2)
        .init("string", #""x""#, .scalar),
        .init("empty string", #""""#, .scalar),
        .init("true", "true", .scalar),
        .init("false with whitespace", " false ", .scalar),
        .init("null", "null", .scalar),
        .init("zero", "0", .scalar),
        .init("negative zero", "-0", .scalar),
        .init("integer", "1234567890", .scalar),
        .init("fraction", "-1.5", .scalar),
        .init("exponent", "1e5", .scalar),
        .init("exponent with sign", "1E+2", .scalar),
        .init("negative exponent", "-1.25e-10", .scalar),
        .init("zeros everywhere", "-0.0e-00", .scalar),
        .init("number outside double range (RFC allows, Python gives inf)", "1e400", .scalar),
        .init("400-digit integer", "1" + String(repeating: "0", count: 400), .scalar),
        .init("numbers in an array", "[0,-0,0.5,10,1e1,1E-1,-2.5E+3]", .array),
        // Escapes
        .init("short escapes", #""\"\\\/\b\f\n\r\t""#, .scalar),
        .init("unicode escapes, either case", #""\u0041\u00e9\uFFFF\uabcd""#, .scalar),
        .init("escaped NUL", #""\u0000""#, .scalar),
        .init("surrogate pair", #""\uD83D\uDE00""#, .scalar),
        .init("lone high surrogate escape (accepted, as Python)", #""\uD800""#, .scalar),
        .init("lone low surrogate escape (accepted, as Python)", #""\uDC00""#, .scalar),
        .init("reversed surrogate escapes (accepted, as Python)", #""\uDC00\uD800""#, .scalar),
        .init("escape in a key", #"{"\u0069d":"\"x\""}"#, .object),
        // Raw text
        .init("non-ASCII text", #"["héllo 世界 😀 \uFFFD"]"#, .array),
        .init("long ASCII string", "\"" + String(repeating: "abcdefgh", count: 20) + "\"", .scalar),
        .string("DEL is not a control character in JSON", content: [0x7F], .scalar),
        .string("U+0080", content: [0xC2, 0x80], .scalar),
        .string("U+07FF", content: [0xDF, 0xBF], .scalar),
        .string("U+0800", content: [0xE0, 0xA0, 0x80], .scalar),
        .string("U+D7FF", content: [0xED, 0x9F, 0xBF], .scalar),
        .string("U+E000", content: [0xEE, 0x80, 0x80], .scalar),
        .string("U+FFFD", content: [0xEF, 0xBF, 0xBD], .scalar),
        .string("U+FFFF", content: [0xEF, 0xBF, 0xBF], .scalar),
        .string("U+10000", content: [0xF0, 0x90, 0x80, 0x80], .scalar),
        .string("U+10FFFF", content: [0xF4, 0x8F, 0xBF, 0xBF], .scalar),
    ]

    static let invalid: [JSONValidatorCase] = [
        // Document level
        .init("empty input", "", nil),
        .init("whitespace only", " \n\t\r", nil),
        .init("two values", "{} {}", nil),
        .init("two scalars", "1 2", nil),
        .init("garbage after value", "[] x", nil),
        .init("byte order mark", "\u{FEFF}{}", nil),
        .init("form feed is not whitespace", "\u{0C}{}", nil),
        .init("vertical tab is not whitespace", "{}\u{0B}", nil),
        .init("no-break space is not whitespace", "\u{A0}{}", nil),
        .init("trailing NUL", "{}\u{00}", nil),
        .init("block comment", "/* c */ {}", nil),
        .init("line comment", "{} // c", nil),
        .init("hash comment", "# c\n{}", nil),
        .init("non-ASCII outside a string", "[\u{A0}1]", nil),
        // Containers
        .init("unclosed object", "{", nil),
        .init("unclosed array", "[1", nil),
        .init("lone close brace", "}", nil),
        .init("lone close bracket", "]", nil),
        .init("array trailing comma", "[1,]", nil),
        .init("object trailing comma", #"{"a":1,}"#, nil),
        .init("array leading comma", "[,1]", nil),
        .init("array double comma", "[1,,2]", nil),
        .init("comma only", "[,]", nil),
        .init("object comma only", "{,}", nil),
        .init("missing comma", "[1 2]", nil),
        .init("missing colon", #"{"a" 1}"#, nil),
        .init("missing value", #"{"a":}"#, nil),
        .init("key without value", #"{"a"}"#, nil),
        .init("unquoted key", "{a:1}", nil),
        .init("number key", "{1:1}", nil),
        .init("single-quoted key", "{'a':1}", nil),
        .init("single-quoted string", "['a']", nil),
        .init("members without comma", #"{"a":1 "b":2}"#, nil),
        .init("member double comma", #"{"a":1,,"b":2}"#, nil),
        .init("bracket closes brace", "[}", nil),
        .init("brace closes bracket", "{]", nil),
        .init("extra close bracket", "[1]]", nil),
        .init("extra close brace", "{}}", nil),
        .init("colon in array", "[1:2]", nil),
        .init("comma in place of colon", #"{"a",1}"#, nil),
        // Literals
        .init("truncated true", "tru", nil),
        .init("capitalised True", "True", nil),
        .init("upper-case TRUE", "TRUE", nil),
        .init("truncated null", "nul", nil),
        .init("null with extra letter", "nulll", nil),
        .init("truncated false", "fals", nil),
        .init("false with extra letter", "falsex", nil),
        .init("undefined", "undefined", nil),
        .init("NaN", "NaN", nil),
        .init("Infinity", "Infinity", nil),
        .init("-Infinity", "-Infinity", nil),
        // Numbers
        .init("leading zero", "01", nil),
        .init("negative leading zero", "-01", nil),
        .init("double zero", "00", nil),
        .init("lone minus", "-", nil),
        .init("minus letter", "-a", nil),
        .init("minus space digit", "- 1", nil),
        .init("double minus", "--1", nil),
        .init("plus sign", "+1", nil),
        .init("leading dot", ".5", nil),
        .init("trailing dot", "1.", nil),
        .init("dot then exponent", "1.e5", nil),
        .init("empty exponent", "1e", nil),
        .init("exponent sign only", "1e+", nil),
        .init("negative exponent sign only", "[1E-]", nil),
        .init("two dots", "1.5.2", nil),
        .init("two exponents", "1e5e5", nil),
        .init("hex number", "0x10", nil),
        .init("digit separator", "1_000", nil),
        .init("leading zero in array", "[0,01]", nil),
        // Strings
        .init("lone quote", "\"", nil),
        .init("unterminated string", #""abc"#, nil),
        .init("escaped closing quote", #""\""#, nil),
        .init("unterminated key", #"{"a"#, nil),
        .init("unknown escape \\x", #""\x41""#, nil),
        .init("unknown escape \\'", #""\'""#, nil),
        .init("unknown escape \\a", #""\a""#, nil),
        .init("upper-case \\U", #""\U0041""#, nil),
        .init("short unicode escape", #""\u00""#, nil),
        .init("short unicode escape at end", #""\u004"#, nil),
        .init("non-hex unicode escape", #""\u00G0""#, nil),
        .init("space in unicode escape", #""\u 041""#, nil),
        .init("backslash at end of input", "\"\\", nil),
        .string("raw control character", content: [0x01], nil),
        .string("raw tab", content: [0x09], nil),
        .string("raw newline", content: [0x0A], nil),
        .string("raw NUL", content: [0x00], nil),
        .string("raw unit separator", content: [0x1F], nil),
        .init("raw control in a key", bytes: Array(#"{"a"#.utf8) + [0x0A] + Array(#"":1}"#.utf8), nil),
        // UTF-8 (RFC 3629)
        .string("stray continuation byte", content: [0x80], nil),
        .string("stray continuation byte BF", content: [0xBF], nil),
        .string("overlong '/' (C0 AF)", content: [0xC0, 0xAF], nil),
        .string("overlong U+007F (C1 BF)", content: [0xC1, 0xBF], nil),
        .string("overlong 3-byte (E0 80 AF)", content: [0xE0, 0x80, 0xAF], nil),
        .string("overlong U+07FF (E0 9F BF)", content: [0xE0, 0x9F, 0xBF], nil),
        .string("overlong 4-byte (F0 80 80 AF)", content: [0xF0, 0x80, 0x80, 0xAF], nil),
        .string("overlong U+FFFF (F0 8F BF BF)", content: [0xF0, 0x8F, 0xBF, 0xBF], nil),
        .string("encoded surrogate U+D800", content: [0xED, 0xA0, 0x80], nil),
        .string("encoded surrogate U+DFFF", content: [0xED, 0xBF, 0xBF], nil),
        .string("encoded surrogate pair (CESU-8)", content: [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80], nil),
        .string("above U+10FFFF (F4 90 80 80)", content: [0xF4, 0x90, 0x80, 0x80], nil),
        .string("lead F5", content: [0xF5, 0x80, 0x80, 0x80], nil),
        .string("lead F8 (5-byte form)", content: [0xF8, 0x88, 0x80, 0x80, 0x80], nil),
        .string("byte FE", content: [0xFE], nil),
        .string("byte FF", content: [0xFF], nil),
        .string("truncated 2-byte", content: [0xC3], nil),
        .string("truncated 3-byte", content: [0xE2, 0x82], nil),
        .string("truncated 4-byte", content: [0xF0, 0x9F, 0x98], nil),
        .string("ASCII after a lead byte", content: [0xC3, 0x41], nil),
        .string("bad third byte", content: [0xE2, 0x82, 0x28], nil),
        .string("bad fourth byte", content: [0xF0, 0x9F, 0x98, 0xC0], nil),
        .init("valid sequence, unterminated string", bytes: [0x22, 0xE2, 0x82, 0xAC], nil),
        .init("sequence cut by the end of input", bytes: [0x22, 0xE2, 0x82], nil),
        .init("invalid UTF-8 in a key", bytes: Array(#"{""#.utf8) + [0xFF] + Array(#"":1}"#.utf8), nil),
        .init("Latin-1 text", bytes: Array(#"["caf"#.utf8) + [0xE9] + Array(#""]"#.utf8), nil),
    ]
}

@Suite("JSONValidator")
struct JSONValidatorTests {
    // MARK: Grammar

    @Test("valid documents", arguments: JSONValidatorCase.valid)
    func valid(_ testCase: JSONValidatorCase) {
        #expect(validate(testCase.bytes) == testCase.expected)
    }

    @Test("malformed documents", arguments: JSONValidatorCase.invalid)
    func invalid(_ testCase: JSONValidatorCase) {
        #expect(validate(testCase.bytes) == nil)
    }

    @Test("enough malformed cases")
    func caseCount() {
        #expect(JSONValidatorCase.invalid.count >= 60)
    }

    @Test("every special byte at every offset of a string, around the 8-byte fast path")
    func specialByteAtEveryOffset() {
        for length in 0..<26 {
            for offset in 0...length {
                func text(_ inserted: [UInt8]) -> [UInt8] {
                    var content = Array(repeating: UInt8(ascii: "a"), count: length)
                    content.insert(contentsOf: inserted, at: offset)
                    return [0x5B, 0x22] + content + [0x22, 0x5D]
                }
                let position = "length \(length), offset \(offset)"
                #expect(validate(text([])) == .array, "\(position)")
                #expect(validate(text([0x5C, 0x22])) == .array, "escaped quote, \(position)")
                #expect(validate(text([0x5C, 0x75, 0x30, 0x30, 0x31, 0x30])) == .array, "\\u0010, \(position)")
                #expect(validate(text([0xE4, 0xB8, 0x96])) == .array, "U+4E16, \(position)")
                #expect(validate(text([0xF0, 0x9F, 0x98, 0x80])) == .array, "U+1F600, \(position)")
                #expect(validate(text([0x7F])) == .array, "DEL, \(position)")
                #expect(validate(text([0x1F])) == nil, "control, \(position)")
                #expect(validate(text([0x00])) == nil, "NUL, \(position)")
                #expect(validate(text([0x0A])) == nil, "LF, \(position)")
                #expect(validate(text([0x80])) == nil, "continuation, \(position)")
                #expect(validate(text([0xFF])) == nil, "FF, \(position)")
                #expect(validate(text([0x5C])) == nil, "lone backslash escapes the quote, \(position)")
                #expect(validate(text([0x22])) == nil, "early quote, \(position)")
                // A string cut anywhere is unterminated.
                #expect(validate(Array(text([0xE4, 0xB8, 0x96]).dropLast(2))) == nil, "cut, \(position)")
            }
        }
    }

    /// Every pair of bytes after a lead byte, against the standard library's UTF-8 validation.
    @Test("UTF-8 in strings agrees with the standard library for every two-byte prefix")
    func utf8AgainstStandardLibrary() {
        for first in 0x80...0xFF {
            for second in 0...0xFF {
                for tail: [UInt8] in [[0x80, 0x80], [0xBF, 0xBF], [0x41, 0x41]] {
                    let content = [UInt8(first), UInt8(second)] + tail
                    // Bytes the grammar treats specially are covered elsewhere.
                    if content.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { continue }
                    let expected = String(validating: content, as: UTF8.self) != nil
                    #expect(
                        (validate([0x22] + content + [0x22]) != nil) == expected,
                        "bytes \(content.map { String($0, radix: 16) })"
                    )
                }
            }
        }
    }

    // MARK: Depth

    @Test("nesting: 512 levels valid, 513 invalid")
    func depthLimit() {
        func arrays(_ depth: Int) -> [UInt8] {
            Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)
        }
        func objects(_ depth: Int) -> [UInt8] {
            Array(String(repeating: #"{"a":"#, count: depth).utf8) + [UInt8(ascii: "1")]
                + Array(repeating: UInt8(ascii: "}"), count: depth)
        }
        func mixed(_ depth: Int) -> [UInt8] {
            var open: [UInt8] = []
            var close: [UInt8] = []
            for level in 0..<depth {
                if level.isMultiple(of: 2) {
                    open += Array(#"{"k":[0,"#.utf8)
                    close = Array("]}".utf8) + close
                } else {
                    open += Array("[".utf8)
                    close = Array("]".utf8) + close
                }
            }
            return open + Array("null".utf8) + close
        }
        #expect(JSONValidator.maxDepth == 512)
        #expect(validate(arrays(512)) == .array)
        #expect(validate(arrays(513)) == nil)
        #expect(validate(objects(512)) == .object)
        #expect(validate(objects(513)) == nil)
        // 341 iterations open 512 levels (171 objects with an array each = 342, plus 170 arrays); 342 open 513.
        #expect(validate(mixed(341)) == .object)
        #expect(validate(mixed(342)) == nil)
        // An empty container at level 513 counts too.
        let emptyAt513 = Array(repeating: UInt8(ascii: "["), count: 512) + Array("{}".utf8)
            + Array(repeating: UInt8(ascii: "]"), count: 512)
        #expect(validate(emptyAt513) == nil)
        // Leaving and re-entering keeps the count right.
        #expect(validate([0x5B] + arrays(511) + [0x2C] + arrays(511) + [0x5D]) == .array)
        #expect(validate([0x5B] + arrays(511) + [0x2C] + arrays(512) + [0x5D]) == nil)
    }

    @Test("1 MiB of open brackets is invalid, not a crash")
    func megabyteOfBrackets() {
        let count = 1 << 20
        #expect(validate(Array(repeating: UInt8(ascii: "["), count: count)) == nil)
        #expect(validate(Array(repeating: UInt8(ascii: "{"), count: count)) == nil)
        #expect(validate(Array(repeating: UInt8(ascii: "["), count: count) + Array(repeating: UInt8(ascii: "]"), count: count)) == nil)
    }

    // MARK: Fixtures

    @Test("vLLM JSON bodies are objects", arguments: [
        "chat", "completion", "error-unknown-model", "error-too-long", "error-stream-too-long", "error-bad-json", "models",
    ])
    func vllmBodies(name: String) throws {
        let body = try Fixtures.bytes("vllm/\(name).body")
        #expect(validate(body) == .object)
        var buffer = ByteBuffer(bytes: body)
        #expect(JSONValidator.validate(buffer) == .object)
        // The last byte is the closing brace, so every shorter prefix is unterminated.
        #expect(body.last == UInt8(ascii: "}"))
        for length in 0..<body.count {
            #expect(validate(Array(body[..<length])) == nil, "prefix \(length)")
        }
        buffer.moveReaderIndex(forwardBy: 1)
        #expect(JSONValidator.validate(buffer) == nil)
    }

    @Test("every event of the recorded streams is an object; the SSE bodies themselves are not JSON")
    func streamEvents() throws {
        for name in ["chat-stream", "chat-stream-n2", "completion-stream"] {
            let body = try Fixtures.bytes("vllm/\(name).body")
            #expect(validate(body) == nil, "\(name)")
            let events = try Self.eventPayloads(name)
            #expect(events.count >= 8, "\(name)")
            for event in events {
                #expect(validate(event) == .object, "\(name)")
            }
        }
    }

    @Test("dstack JSON fixtures are objects", arguments: [
        "tdx-lite-getquote.json", "quote-report.json", "appkeys.json", "app-compose.json",
    ])
    func dstackFixtures(name: String) throws {
        #expect(validate(try Fixtures.bytes("dstack/\(name)")) == .object)
    }

    @Test("binary fixture is not JSON")
    func binaryFixture() throws {
        #expect(validate(try Fixtures.bytes("dstack/attestation.bin")) == nil)
    }

    // MARK: ByteBuffer

    @Test("the ByteBuffer overload sees only the readable bytes")
    func byteBufferReadableBytes() {
        #expect(JSONValidator.validate(ByteBuffer()) == nil)
        var buffer = ByteBuffer(string: #"xx{"a":[1]}"#)
        #expect(JSONValidator.validate(buffer) == nil)
        buffer.moveReaderIndex(forwardBy: 2)
        #expect(JSONValidator.validate(buffer) == .object)
        let slice = buffer.getSlice(at: buffer.readerIndex + 5, length: 3)
        #expect(slice.map { JSONValidator.validate($0) } == .array)
        var empty = ByteBuffer(string: "[]")
        empty.moveReaderIndex(forwardBy: 2)
        #expect(JSONValidator.validate(empty) == nil)
    }

    // MARK: Against Foundation

    /// Where Foundation's `JSONSerialization` (swift-corelibs-foundation, `.fragmentsAllowed`) and this
    /// validator disagree on purpose; every one was found by probing it, and the differential test
    /// below accepts a disagreement only when one of these explains it:
    ///
    /// Foundation accepts, we reject (RFC 8259 forbids):
    /// 1. Trailing commas: `[1,]`, `{"a":1,}`. RFC 8259 §4/§5 grammar has no trailing separator; Python
    ///    rejects them too.
    /// 2. A UTF-8 byte order mark before the value, and UTF-16/UTF-32 text (Foundation sniffs the
    ///    encoding from zero bytes among the first four, so `{}` in UTF-16LE, or even `1\0`, parse).
    ///    RFC 8259 §8.1: JSON exchanged between systems is UTF-8 and a BOM must not be added; vLLM sends
    ///    UTF-8 and the proxy hashes bytes, so anything else is not the body we mean to sign.
    ///
    /// We accept, Foundation rejects (RFC 8259 allows):
    /// 3. `\uXXXX` escapes that are lone or reversed surrogates (`"\uD800"`). RFC 8259 §8.2 calls them
    ///    unpredictable but grammatical; Python's `json` accepts them, as specified for this validator.
    /// 4. Numbers outside Double's range (`1e400`, a 400-digit integer). RFC 8259 §6 puts no limit on
    ///    range in the grammar (only warns about interoperability); Python accepts them (inf or int).
    ///    Foundation fails because it converts numbers, which the proxy never does.
    enum KnownDifference: CaseIterable {
        case trailingComma, otherEncoding, loneSurrogateEscape, numberOutOfRange

        /// Whether Foundation is the side that accepts.
        var foundationAccepts: Bool {
            switch self {
            case .trailingComma, .otherEncoding: true
            case .loneSurrogateEscape, .numberOutOfRange: false
            }
        }

        func explains(_ bytes: [UInt8]) -> Bool {
            switch self {
            case .trailingComma: Lexer.hasTrailingComma(bytes)
            case .otherEncoding: bytes.starts(with: [0xEF, 0xBB, 0xBF]) || bytes.prefix(4).contains(0)
            case .loneSurrogateEscape: Lexer.hasUnpairedSurrogateEscape(bytes)
            case .numberOutOfRange: Lexer.hasNumberOutsideDoubleRange(bytes)
            }
        }
    }

    @Test("each documented difference from JSONSerialization, by example")
    func documentedDifferences() {
        let examples: [(String, KnownDifference)] = [
            ("[1,]", .trailingComma), (#"{"a":[1,],}"#, .trailingComma),
            ("\u{FEFF}{}", .otherEncoding), ("1\u{0}", .otherEncoding),
            (#""\uD800""#, .loneSurrogateEscape), (#"["\uDC00\uD800"]"#, .loneSurrogateEscape),
            ("1e400", .numberOutOfRange), ("[-" + String(repeating: "9", count: 400) + "]", .numberOutOfRange),
        ]
        for (text, difference) in examples {
            let bytes = Array(text.utf8)
            #expect((validate(bytes) != nil) == !difference.foundationAccepts, "\(text.debugDescription)")
            #expect((Self.foundationKind(bytes) != nil) == difference.foundationAccepts, "\(text.debugDescription)")
            #expect(difference.explains(bytes), "\(text.debugDescription)")
        }
        // UTF-16LE with no BOM, a case of the sniffing.
        #expect(Self.foundationKind([0x7B, 0x00, 0x7D, 0x00]) == .object)
        #expect(validate([0x7B, 0x00, 0x7D, 0x00]) == nil)
    }

    @Test("agrees with JSONSerialization on the corpus and 5 000 seeded mutations, except documented differences")
    func differentialAgainstFoundation() throws {
        var corpus: [[UInt8]] = []
        for name in ["chat", "completion", "error-unknown-model", "error-too-long", "error-bad-json", "models"] {
            corpus.append(try Fixtures.bytes("vllm/\(name).body"))
        }
        for name in ["chat-stream", "chat-stream-n2", "completion-stream"] {
            corpus += try Self.eventPayloads(name)
        }
        for name in ["appkeys.json", "app-compose.json"] {
            corpus.append(try Fixtures.bytes("dstack/\(name)"))
        }
        let seeds = corpus
        corpus += try ["tdx-lite-getquote.json", "quote-report.json"].map { try Fixtures.bytes("dstack/\($0)") }
        corpus += (JSONValidatorCase.valid + JSONValidatorCase.invalid).map(\.bytes)

        var generator = SplitMix64(seed: 0x5EED_1503)
        for _ in 0..<5_000 {
            let seed = seeds[Int(generator.next() % UInt64(seeds.count))]
            corpus.append(Self.mutate(seed, using: &generator))
        }

        var agreedValid = 0
        var agreedInvalid = 0
        var explained: [KnownDifference: Int] = [:]
        for input in corpus {
            let ours = validate(input)
            let theirs = Self.foundationKind(input)
            if ours == theirs {
                if ours == nil { agreedInvalid += 1 } else { agreedValid += 1 }
                continue
            }
            let reason = KnownDifference.allCases.first { difference in
                difference.foundationAccepts == (theirs != nil) && (ours == nil || theirs == nil)
                    && difference.explains(input)
            }
            #expect(reason != nil, "unexplained: ours \(String(describing: ours)), Foundation \(String(describing: theirs)) for \(Self.describe(input))")
            if let reason { explained[reason, default: 0] += 1 }
        }
        // The mutations must exercise both verdicts, or this test proves little.
        #expect(agreedValid >= 500)
        #expect(agreedInvalid >= 1_000)
        #expect(agreedValid + agreedInvalid + explained.values.reduce(0, +) == corpus.count)
    }

    // MARK: Helpers

    private func validate(_ bytes: [UInt8]) -> JSONValidator.TopLevel? {
        bytes.withUnsafeBytes { JSONValidator.validate($0) }
    }

    /// The `data:` payloads of a recorded stream, `[DONE]` excluded.
    static func eventPayloads(_ name: String) throws -> [[UInt8]] {
        let text = String(decoding: try Fixtures.bytes("vllm/\(name).body"), as: UTF8.self)
        return text.components(separatedBy: "\n\n").compactMap { event in
            guard event.hasPrefix("data: "), event != "data: [DONE]" else { return nil }
            return Array(event.utf8.dropFirst(6))
        }
    }

    static func foundationKind(_ bytes: [UInt8]) -> JSONValidator.TopLevel? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) else {
            return nil
        }
        if value is [String: Any] { return .object }
        if value is [Any] { return .array }
        return .scalar
    }

    /// One random edit: replace, insert or delete a byte, truncate, or duplicate a range.
    private static func mutate(_ input: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        // Bytes that change the grammar, not just the text, most of the time.
        let interesting = Array(#"{}[]":,\ u0123456789-+.eEtfnr/"#.utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xE0, 0xED, 0xF4, 0xFF]
        func randomByte(_ generator: inout SplitMix64) -> UInt8 {
            generator.next() % 4 == 0 ? UInt8(truncatingIfNeeded: generator.next()) : interesting[Int(generator.next() % UInt64(interesting.count))]
        }
        var bytes = input
        let edits = 1 + Int(generator.next() % 3)
        for _ in 0..<edits where !bytes.isEmpty {
            let position = Int(generator.next() % UInt64(bytes.count))
            switch generator.next() % 6 {
            case 0, 1: bytes[position] = randomByte(&generator)
            case 2: bytes.insert(randomByte(&generator), at: position)
            case 3: bytes.remove(at: position)
            case 4: bytes.removeSubrange(position...)
            default:
                let length = min(1 + Int(generator.next() % 16), bytes.count - position)
                bytes.insert(contentsOf: bytes[position..<(position + length)], at: position)
            }
        }
        return bytes
    }

    static func describe(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription
    }
}

/// Rough token-level looks at a text, independent of the validator, to explain known differences.
private enum Lexer {
    /// Calls `body` with each byte outside string literals and its index.
    static func forEachOutsideStrings(_ bytes: [UInt8], _ body: (Int, UInt8) -> Bool) -> Bool {
        var index = 0
        var inString = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == 0x5C { index += 1 } else if byte == 0x22 { inString = false }
            } else if byte == 0x22 {
                inString = true
            } else if body(index, byte) {
                return true
            }
            index += 1
        }
        return false
    }

    /// A `,` followed (after whitespace) by `]` or `}`.
    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        forEachOutsideStrings(bytes) { index, byte in
            guard byte == UInt8(ascii: ",") else { return false }
            let next = bytes[(index + 1)...].first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
            return next == UInt8(ascii: "]") || next == UInt8(ascii: "}")
        }
    }

    /// A number token whose value is infinite as a Double.
    static func hasNumberOutsideDoubleRange(_ bytes: [UInt8]) -> Bool {
        let numberBytes = Set("0123456789+-.eE".utf8)
        return forEachOutsideStrings(bytes) { index, byte in
            guard byte == UInt8(ascii: "-") || (0x30...0x39).contains(byte),
                index == 0 || !numberBytes.contains(bytes[index - 1])
            else { return false }
            let token = bytes[index...].prefix { numberBytes.contains($0) }
            return Double(String(decoding: token, as: UTF8.self))?.isInfinite == true
        }
    }

    /// A `\uD800`–`\uDFFF` escape that is not a high surrogate directly followed by a low one.
    static func hasUnpairedSurrogateEscape(_ bytes: [UInt8]) -> Bool {
        var index = 0
        var inString = false
        var pendingHigh = false
        while index < bytes.count {
            let byte = bytes[index]
            if !inString {
                if byte == 0x22 { inString = true }
                index += 1
                continue
            }
            if byte == 0x5C, index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u"), index + 6 <= bytes.count,
                let unit = UInt16(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16)
            {
                switch unit {
                case 0xD800...0xDBFF:
                    if pendingHigh { return true }
                    pendingHigh = true
                case 0xDC00...0xDFFF:
                    if !pendingHigh { return true }
                    pendingHigh = false
                default:
                    if pendingHigh { return true }
                }
                index += 6
                continue
            }
            if pendingHigh { return true }
            if byte == 0x5C { index += 2; continue }
            if byte == 0x22 { inString = false }
            index += 1
        }
        return pendingHigh
    }
}

@Suite("JSONValidator.scan")
struct JSONValidatorScanTests {
    private static func member(_ text: String, _ path: [String]) -> JSONValidator.Member? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { JSONValidator.scan($0, path: path.map { Array($0.utf8) }) }?.member
    }

    private static func string(_ text: String, _ path: [String]) -> String? {
        Array(text.utf8).withUnsafeBytes { TopLevelIDExtractor.string(at: path.map { Array($0.utf8) }, in: $0) }
    }

    @Test("finds members by path, ignoring other depths and arrays")
    func paths() {
        #expect(Self.string(#"{"a":1,"id":"x"}"#, ["id"]) == "x")
        #expect(Self.string(#"{"response":{"id":"r","x":{"id":"no"}},"id":"top"}"#, ["response", "id"]) == "r")
        #expect(Self.string(#"{"response":[{"id":"r"}]}"#, ["response", "id"]) == nil)
        #expect(Self.string(#"{"other":{"id":"r"}}"#, ["response", "id"]) == nil)
        #expect(Self.string(#"{"response":{},"x":{"id":"no"}}"#, ["response", "id"]) == nil)
        #expect(Self.string(#"{"response":{},"response2":1,"id":"t"}"#, ["id"]) == "t")
        #expect(Self.string(#"{"a":{},"id":"after-empty"}"#, ["id"]) == "after-empty")
        #expect(Self.string(#"{"a":[],"b":{"c":{}},"id":"after-nested"}"#, ["id"]) == "after-nested")
        #expect(Self.string(#"[{"id":"x"}]"#, ["id"]) == nil)
    }

    @Test("a value of another kind, a duplicate, or invalid JSON")
    func kinds() {
        #expect(Self.member(#"{"id":1}"#, ["id"]) == .other)
        #expect(Self.member(#"{"id":{"x":1}}"#, ["id"]) == .other)
        #expect(Self.member(#"{"id":"a","id":"b"}"#, ["id"]) == .ambiguous)
        #expect(Self.member(#"{"id":"a","\u0069d":"b"}"#, ["id"]) == .ambiguous)
        #expect(Self.member(#"{"x":1}"#, ["id"]) == .absent)
        #expect(Self.member(#"{"id":"a""#, ["id"]) == nil)
        #expect(Self.member(#"{"id":"a"} x"#, ["id"]) == nil)
    }

    @Test("one depth limit: a deep answer keeps its id")
    func oneDepthLimit() {
        let depth = JSONValidator.maxDepth - 1
        let deep = #"{"id":"deep","x":"# + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        #expect(JSONValidator.validate(ByteBuffer(string: deep)) == .object)
        #expect(Self.string(deep, ["id"]) == "deep")
        let tooDeep = #"{"id":"deep","x":"# + String(repeating: "[", count: depth + 1) + String(repeating: "]", count: depth + 1) + "}"
        #expect(JSONValidator.validate(ByteBuffer(string: tooDeep)) == nil)
        #expect(Self.string(tooDeep, ["id"]) == nil)
    }
}
