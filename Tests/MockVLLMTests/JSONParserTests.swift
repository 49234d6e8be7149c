import Testing

@testable import MockVLLM

@Suite("JSON parser (Python json acceptance and error positions)")
struct JSONParserTests {
    @Test("parses a request with nesting, escapes, surrogate pairs and all scalar kinds")
    func parsesValidDocument() throws {
        let text = #" {"model":"tiny","n":-12,"t":1.5e2,"f":false,"x":null,"s":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","a":[1,[true],{}],"raw":"é"} "#
        let value = try JSONParser.parse(Array(text.utf8)).get()
        #expect(value["model"] == .string("tiny"))
        #expect(value["n"] == .integer(-12))
        #expect(value["t"] == .double(150))
        #expect(value["f"] == .bool(false))
        #expect(value["x"] == .null)
        #expect(value["s"] == .string("a\"\\/\u{8}\u{C}\n\r\té😀"))
        #expect(value["a"] == .array([.integer(1), .array([.bool(true)]), .object([:])]))
        #expect(value["raw"] == .string("é"))
        #expect(value["missing"] == nil)
    }

    @Test("accepts Python's extensions and keeps the last of repeated keys")
    func pythonExtensions() throws {
        let value = try JSONParser.parse(Array(#"{"a":NaN,"b":Infinity,"c":-Infinity,"a":1}"#.utf8)).get()
        #expect(value["a"] == .integer(1))
        #expect(value["b"] == .double(.infinity))
        #expect(value["c"] == .double(-.infinity))
        #expect(value["a"]?.integerValue == 1)
    }

    @Test("lone surrogates become U+FFFD; integral doubles read as integers; 0/1 read as booleans")
    func lenientAccessors() throws {
        #expect(try JSONParser.parse(Array(#""\ud800x""#.utf8)).get() == .string("\u{FFFD}x"))
        #expect(JSONValue.double(8).integerValue == 8)
        #expect(JSONValue.double(8.5).integerValue == nil)
        #expect(JSONValue.integer(1).booleanValue == true)
        #expect(JSONValue.integer(2).booleanValue == nil)
        #expect(JSONValue.string("true").booleanValue == nil)
    }

    /// Positions and messages as CPython 3.11's `json.loads` reports them (positions in characters).
    static let malformed: [(input: String, position: Int, reason: String)] = [
        (#"{"model":"tiny","#, 16, "Expecting property name enclosed in double quotes"),
        ("", 0, "Expecting value"),
        ("   ", 3, "Expecting value"),
        ("{", 1, "Expecting property name enclosed in double quotes"),
        (#"{"a""#, 4, "Expecting ':' delimiter"),
        (#"{"a" 1}"#, 5, "Expecting ':' delimiter"),
        (#"{"a":}"#, 5, "Expecting value"),
        (#"{"a":1 "b":2}"#, 7, "Expecting ',' delimiter"),
        ("[1,]", 3, "Expecting value"),
        ("[1 2]", 3, "Expecting ',' delimiter"),
        (#""abc"#, 0, "Unterminated string starting at"),
        (#""a\x""#, 2, "Invalid \\escape"),
        (#""a\u12""#, 3, "Invalid \\uXXXX escape"),
        (#""a\u12G4""#, 3, "Invalid \\uXXXX escape"),
        ("\"a\u{1}\"", 2, "Invalid control character at"),
        ("{} x", 3, "Extra data"),
        ("-", 0, "Expecting value"),
        ("01", 1, "Extra data"),
        ("1.", 1, "Extra data"),
        ("1e+", 1, "Extra data"),
        ("[", 1, "Expecting value"),
        (#"{"a":1,}"#, 7, "Expecting property name enclosed in double quotes"),
        (#"{"é":"é", x}"#, 10, "Expecting property name enclosed in double quotes"),
        ("nul", 0, "Expecting value"),
        (#"{"a":[1,2,{"b":}]}"#, 15, "Expecting value"),
        (#""\"#, 0, "Unterminated string starting at"),
        (#""\u"#, 2, "Invalid \\uXXXX escape"),
        (#""abc\""#, 0, "Unterminated string starting at"),
        ("[-]", 1, "Expecting value"),
        (#"{"a":1}}"#, 7, "Extra data"),
        ("{,}", 1, "Expecting property name enclosed in double quotes"),
        ("[,]", 1, "Expecting value"),
        (#"{"a" : 1 , }"#, 11, "Expecting property name enclosed in double quotes"),
    ]

    @Test("malformed input fails at Python's position with Python's message", arguments: Self.malformed)
    func malformedInput(_ vector: (input: String, position: Int, reason: String)) {
        switch JSONParser.parse(Array(vector.input.utf8)) {
        case .success(let value):
            Issue.record("parsed \(vector.input) as \(value)")
        case .failure(let error):
            #expect(error.position == vector.position)
            #expect(error.reason == vector.reason)
        }
    }

    @Test("nesting deeper than the limit is rejected, not a stack overflow")
    func nestingLimit() {
        let depth = JSONParser.maximumDepth
        let accepted = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect((try? JSONParser.parse(Array(accepted.utf8)).get()) != nil)
        let rejected = String(repeating: "[", count: 100_000)
        guard case .failure(let error) = JSONParser.parse(Array(rejected.utf8)) else {
            Issue.record("deep nesting accepted")
            return
        }
        #expect(error.reason == "Maximum nesting depth exceeded")
        #expect(error.position == depth)
    }
}
