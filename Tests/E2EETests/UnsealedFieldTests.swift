import Foundation
import TestFixtures
import Testing

@testable import E2EE

/// What no dialect seals may not leave in the clear (docs/E2EE.md, "What E2EE refuses"): the clear parameters
/// that would ask vLLM for such fields are refused before any decryption, an answer carrying them cannot be sent,
/// and the limits on a request's nonce and field count hold.
@Suite struct UnsealedFieldTests {
    let fixture: ExchangeFixture

    init() throws { self.fixture = try ExchangeFixture() }

    /// The E2EEError `body` throws (nil, recorded, when it throws none).
    func error(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> E2EEError? {
        do {
            try body()
            Issue.record("no error", sourceLocation: sourceLocation)
        } catch let error as E2EEError {
            return error
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    func open(_ exchange: E2EEExchange, _ json: String) throws {
        var copy = exchange
        _ = try copy.openRequest(Array(json.utf8))
    }

    func near(allFields: Bool = false, version: Int = 2, _ endpoint: E2EEEndpoint = .chatCompletions) throws -> (E2EEClient, E2EEExchange) {
        let client = try self.fixture.client(.near(version: version), .ecdsa)
        let headers = self.fixture.headers(client, adding: allFields ? [("X-Encrypt-All-Fields", "true")] : [])
        return (client, try self.fixture.exchange(headers, endpoint))
    }

    func aci(_ endpoint: E2EEEndpoint) throws -> E2EEExchange {
        try self.fixture.exchange(E2EEHeaders(try self.fixture.aciClient(.x25519).headers), endpoint)
    }

    func dv(version: Int = 2) throws -> (E2EEClient, E2EEExchange) {
        let client = try self.fixture.client(.dv(version: version), .ecdsa)
        return (client, try self.fixture.exchange(E2EEHeaders(client.headers), .chatCompletions))
    }

    // MARK: Request parameters

    static let chatAsks = [
        #""logprobs":true"#, #""logprobs":1"#, #""top_logprobs":20"#, #""prompt_logprobs":1"#, #""prompt_logprobs":-1"#,
        #""return_token_ids":true"#, #""return_tokens_as_token_ids":true"#,
        #""tools":[{"type":"function","function":{"name":"f"}}]"#, #""functions":[{"name":"f"}]"#, #""tool_choice":"auto""#,
        #""tool_choice":{"type":"function","function":{"name":"f"}}"#, #""function_call":"auto""#, #""logprobs":"yes""#,
        #""logprobs":0.5"#,
    ]
    static let vacant = [
        #""logprobs":false"#, #""logprobs":null"#, #""top_logprobs":0"#, #""prompt_logprobs":null"#, #""tools":[]"#,
        #""tools":[ ]"#, #""tool_choice":"none""#, #""tool_choice":{}"#, #""return_token_ids":false"#, #""logprobs":-0.0"#,
        #""echo":true"#, #""n":2"#, #""parallel_tool_calls":true"#,
    ]

    /// The parameter is named, never its value; the request's ciphertext is garbage, so a refusal proves nothing
    /// was decrypted first.
    @Test func chatParametersAreRefusedBeforeDecryption() throws {
        let garbage = String(repeating: "ab", count: 200)
        let cases: [(E2EEExchange, String, String)] = [
            (try self.dv().1, #"{"model":"m","messages":[{"role":"user","content":"\#(garbage)"}],"#, "invalid_e2ee_request"),
            (try self.dv(version: 1).1, #"{"model":"m","messages":[{"role":"user","content":"\#(garbage)"}],"#, "invalid_e2ee_request"),
            (try self.near().1, #"{"model":"m","messages":[{"role":"user","content":"\#(garbage)"}],"#, "bad_request"),
            (try self.aci(.chatCompletions), #"{"model":"m","messages":[{"role":"user","content":"\#(garbage)"}],"#, "invalid_e2ee_request"),
        ]
        for (exchange, prefix, type) in cases {
            for ask in Self.chatAsks {
                let error = self.error { try self.open(exchange, prefix + ask + "}") }
                #expect(error?.type == type, "\(ask)")
                #expect(error?.status == 400)
                let name = String(ask.dropFirst().prefix { $0 != "\"" })
                #expect(error?.message.contains("'\(name)'") == true, "\(String(describing: error))")
                let value = String(ask.drop { $0 != ":" }.dropFirst())
                #expect(error?.message.contains(value) == false, "\(ask)")
            }
            // A twin with a value is refused even after a vacant one; a vacant value passes to decryption.
            #expect(self.error { try self.open(exchange, prefix + #""logprobs":false,"logprobs":true}"#) }?.message.contains("logprobs") == true)
            for value in Self.vacant {
                let error = self.error { try self.open(exchange, prefix + value + "}") }
                #expect(error?.message.contains("not available") == false, "\(value): \(String(describing: error))")
            }
        }
    }

    @Test func vacantParametersPassWithTheRequest() throws {
        let (client, exchange) = try self.near()
        let body = #"{"model":"m","messages":[{"content":"\#(try client.sealRequestField("hi"))"}],"# + Self.vacant.joined(separator: ",") + "}"
        var copy = exchange
        let opened = String(decoding: try copy.openRequest(Array(body.utf8)), as: UTF8.self)
        #expect(opened.contains(#""content":"hi""#) && opened.contains(#""tool_choice":"none""#))
    }

    /// NEAR with all-fields seals tool calls and chat logprob tokens: those parameters pass there; the prompt's
    /// tokens and token ids it does not seal.
    @Test func nearAllFieldsAllowsWhatItSeals() throws {
        let (client, exchange) = try self.near(allFields: true)
        let content = try client.sealRequestField("hi")
        for ask in [#""logprobs":true,"top_logprobs":5"#, #""tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto""#] {
            try self.open(exchange, #"{"model":"m","messages":[{"content":"\#(content)"}],\#(ask)}"#)
        }
        for ask in [#""prompt_logprobs":1"#, #""return_token_ids":true"#] {
            #expect(self.error { try self.open(exchange, #"{"model":"m","messages":[{"content":"\#(content)"}],\#(ask)}"#) }?.type == "bad_request")
        }
    }

    /// Completions: an integer `logprobs` and the token parameters are refused; `echo` (the prompt comes back in
    /// the sealed `text`) passes. Embeddings ask for nothing unsealed.
    @Test func completionsAndEmbeddingsParameters() throws {
        let aci = try self.aci(.completions)
        let (nearClient, near) = try self.near(.completions)
        let prompt = try nearClient.sealRequestField("p")
        for ask in [#""logprobs":5"#, #""logprobs":0.1"#, #""prompt_logprobs":2"#, #""return_token_ids":true"#, #""return_tokens_as_token_ids":true"#] {
            #expect(self.error { try self.open(aci, #"{"model":"m","prompt":"00",\#(ask)}"#) }?.type == "invalid_e2ee_request", "\(ask)")
            #expect(self.error { try self.open(near, #"{"model":"m","prompt":"\#(prompt)",\#(ask)}"#) }?.type == "bad_request", "\(ask)")
        }
        try self.open(near, #"{"model":"m","prompt":"\#(prompt)","echo":true,"logprobs":null,"tools":[{"x":1}]}"#)
        let (embedClient, embeddings) = try self.near(.embeddings)
        try self.open(embeddings, #"{"model":"m","input":"\#(try embedClient.sealRequestField("e"))","logprobs":true}"#)
    }

    // MARK: Answers

    /// vLLM 0.32's real answers (`Fixtures/vllm/`) carry the unsealed fields as null: they still go out sealed.
    @Test func vllmAnswersStillSeal() throws {
        let chat = try Fixtures.bytes("vllm/chat.body")
        let completion = try Fixtures.bytes("vllm/completion.body")
        let exchanges = [try self.dv().1, try self.dv(version: 1).1, try self.near().1, try self.near(allFields: true).1, try self.aci(.chatCompletions)]
        for exchange in exchanges {
            #expect(try exchange.sealResponse(chat) != chat)
            var stream = exchange.streamSealer()
            for stem in ["chat-stream", "chat-stream-n2"] {
                let body = try Fixtures.bytes("vllm/\(stem).body")
                _ = try body.withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) }
                _ = try stream.finish()
            }
        }
        for exchange in [try self.near(.completions).1, try self.aci(.completions)] {
            #expect(try exchange.sealResponse(completion) != completion)
            var stream = exchange.streamSealer()
            _ = try Fixtures.bytes("vllm/completion-stream.body").withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) }
        }
    }

    static let chatLeaks = [
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a","refusal":"I won't"}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"q\":\"secret\"}"}}]}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a","function_call":{"name":"f","arguments":"x"}}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a","annotations":[{"type":"url_citation"}]}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a","audio":{"data":"d","transcript":"said"}}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a"},"logprobs":{"content":[{"token":"a","logprob":-1}]}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a"},"token_ids":[1,2]}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a"}}],"prompt_logprobs":[null,{"5":{"logprob":-1,"decoded_token":"secret"}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a"}}],"prompt_token_ids":[5,6]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a"}}],"prompt_text":"the prompt"}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":{"text":"secret"}}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a","reasoning":["secret"]}}]}"#,
        #"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a","audio":"secret"}}]}"#,
    ]

    @Test func unsealedAnswerFieldsMakeTheAnswerUnsealable() throws {
        for exchange in [try self.dv().1, try self.dv(version: 1).1, try self.near().1, try self.aci(.chatCompletions)] {
            for leak in Self.chatLeaks {
                #expect(self.error { _ = try exchange.sealResponse(Array(leak.utf8)) }?.status == 502, "\(leak)")
                // The same as a stream event (message → delta).
                let event = "data: " + leak.replacingOccurrences(of: "\"message\"", with: "\"delta\"") + "\n\n"
                var stream = exchange.streamSealer()
                #expect(self.error { _ = try Array(event.utf8).withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) } }?.status == 502, "\(event)")
            }
        }
        // A container no sealer reads: `delta` in a whole answer, `message` in a stream event or a completion, or
        // a `message` that is not an object.
        let (_, nearCompletions) = try self.near(.completions)
        for exchange in [try self.dv().1, try self.near(allFields: true).1, try self.aci(.chatCompletions)] {
            for odd in [#"{"id":"c","choices":[{"index":0,"delta":{"content":"secret"}}]}"#,
                        #"{"id":"c","choices":[{"index":0,"message":"secret"}]}"#] {
                #expect(self.error { _ = try exchange.sealResponse(Array(odd.utf8)) }?.status == 502, "\(odd)")
            }
            var stream = exchange.streamSealer()
            let event = #"data: {"id":"c","choices":[{"index":0,"message":{"content":"secret"}}]}"# + "\n"
            #expect(self.error { _ = try Array(event.utf8).withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) } }?.status == 502)
        }
        #expect(self.error { _ = try nearCompletions.sealResponse(Array(#"{"choices":[{"text":"t","message":{"content":"secret"}}]}"#.utf8)) }?.status == 502)
        // A vacant one passes.
        #expect(try self.dv().1.sealResponse(Array(#"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"a"},"delta":{}}]}"#.utf8)).count > 0)
        // NEAR with all-fields seals refusal, tool calls, function calls and chat logprobs; not the rest.
        let near = try self.near(allFields: true).1
        for (index, leak) in Self.chatLeaks.enumerated() {
            if [0, 1, 2, 5].contains(index) {
                let sealed = String(decoding: try near.sealResponse(Array(leak.utf8)), as: UTF8.self)
                for plain in ["I won't", "secret", #""x""#, #""token":"a""#] { #expect(!sealed.contains(plain), "\(sealed)") }
            } else {
                #expect(self.error { _ = try near.sealResponse(Array(leak.utf8)) }?.status == 502, "\(leak)")
            }
        }
        // Completions: logprobs (no dialect seals completion logprobs) and the prompt's tokens in a choice.
        for exchange in [try self.near(allFields: true, .completions).1, try self.aci(.completions)] {
            for leak in [
                #"{"id":"c","choices":[{"index":0,"text":"t","logprobs":{"tokens":["t"],"token_logprobs":[-1]}}]}"#,
                #"{"id":"c","choices":[{"index":0,"text":"t","prompt_logprobs":[null,{"1":{"decoded_token":"p"}}]}]}"#,
                #"{"id":"c","choices":[{"index":0,"text":"t","prompt_token_ids":[1]}]}"#,
            ] {
                #expect(self.error { _ = try exchange.sealResponse(Array(leak.utf8)) }?.status == 502, "\(leak)")
            }
        }
    }

    /// DV seals every `message` (and `delta`) of a choice, not only the last one a parser would keep.
    @Test func dvSealsEveryOccurrence() throws {
        let (client, exchange) = try self.dv(version: 1)
        let answer = Array(#"{"id":"c","model":"m","choices":[{"index":0,"message":{"content":"first secret"},"message":{"content":"second secret"}}]}"#.utf8)
        let sealed = String(decoding: try exchange.sealResponse(answer), as: UTF8.self)
        #expect(!sealed.contains("secret"), "\(sealed)")
        let scanner = JSONScanner(Array(sealed.utf8))
        let choice = try scanner.elements(try #require(scanner.members(try scanner.root()).last { $0.name == "choices" }?.value))[0]
        let contents = try scanner.members(choice).filter { $0.name == "message" }.map { message in
            try scanner.string(try #require(scanner.members(message.value).first { $0.name == "content" }?.value))
        }
        #expect(try contents.map { try client.openResponseField($0, aad: []) } == ["first secret", "second secret"])
        var stream = exchange.streamSealer()
        let event = #"data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"one"},"delta":{"content":"two"}}]}"# + "\n"
        let output = String(decoding: try Array(event.utf8).withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) }, as: UTF8.self)
        #expect(!output.contains("\"one\"") && !output.contains("\"two\""), "\(output)")
    }

    // MARK: Limits

    @Test func dvNonceIsBounded() throws {
        let client = try self.fixture.client(.dv(version: 2), .ecdsa)
        func exchange(nonce: String) throws -> E2EEExchange? {
            try E2EEExchange(
                headers: self.fixture.headers(client, dropping: ["x-e2ee-nonce"], adding: [("X-E2EE-Nonce", nonce)]),
                endpoint: .chatCompletions, keys: self.fixture.keys.server, keyset: self.fixture.keys.keyset, now: self.fixture.keys.now)
        }
        #expect(try exchange(nonce: String(repeating: "n", count: DVContext.maxNonceLength)) != nil)
        for nonce in [String(repeating: "n", count: DVContext.maxNonceLength + 1), String(repeating: "n", count: 80_000),
                      String(repeating: "é", count: 129)] {
            let error = self.error { _ = try exchange(nonce: nonce) }
            #expect(error?.type == "e2ee_invalid_nonce")
            #expect(error?.message == "X-E2EE-Nonce must be 16 to 256 characters")
        }
    }

    /// More than 2 048 encrypted fields are refused before any is opened (the fields are garbage: a decryption
    /// would answer `decryption failed` instead); at the cap the request is opened (and fails on the garbage).
    @Test func encryptedFieldsAreCapped() throws {
        let garbage = "\"" + String(repeating: "ab", count: 100) + "\""
        func list(_ count: Int) -> String { Array(repeating: garbage, count: count).joined(separator: ",") }
        let cap = E2EERequestOpener.maxEncryptedFields
        let nearV1 = try self.near(version: 1, .embeddings).1
        let aci = try self.aci(.embeddings)
        let (_, dv) = try self.dv()
        let messages = { (count: Int) in
            Array(repeating: #"{"role":"user","content":\#(garbage)}"#, count: count).joined(separator: ",")
        }
        let cases: [(E2EEExchange, (Int) -> String, String)] = [
            (nearV1, { #"{"model":"m","input":[\#(list($0))]}"# }, "bad_request"),
            (aci, { #"{"model":"m","input":[\#(list($0))]}"# }, "invalid_e2ee_request"),
            (dv, { #"{"model":"m","messages":[\#(messages($0))]}"# }, "invalid_e2ee_request"),
        ]
        for (exchange, body, type) in cases {
            let over = self.error { try self.open(exchange, body(cap + 1)) }
            #expect(over?.type == type)
            #expect(over?.message == "An E2EE request may carry at most 2048 encrypted fields")
            let at = self.error { try self.open(exchange, body(cap)) }
            #expect(at != nil && at?.message.contains("at most") == false, "\(String(describing: at))")
        }
        // Lenient fields (NEAR all-fields: a value that does not open stays) count too.
        let (_, allFields) = try self.near(allFields: true)
        let calls = Array(repeating: #"{"function":{"name":\#(garbage),"arguments":\#(garbage)}}"#, count: cap / 2 + 1).joined(separator: ",")
        #expect(self.error { try self.open(allFields, #"{"model":"m","messages":[{"role":"assistant","tool_calls":[\#(calls)]}]}"#) }?.message.contains("at most") == true)
    }
}
