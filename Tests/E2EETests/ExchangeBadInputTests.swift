import Foundation
import Testing

@testable import E2EE

/// Bodies and answers the body layer must refuse, each with its dialect's error type; messages never carry input.
@Suite struct ExchangeBadInputTests {
    let fixture: ExchangeFixture

    init() throws { self.fixture = try ExchangeFixture() }

    /// Runs `body`, expecting an E2EEError of `type` (and `status`); returns it.
    @discardableResult
    func expectError(
        _ type: String, status: Int = 400, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
    ) -> E2EEError? {
        do {
            try body()
            Issue.record("no error, expected \(type)", sourceLocation: sourceLocation)
            return nil
        } catch let error as E2EEError {
            #expect(error.type == type, "\(error)", sourceLocation: sourceLocation)
            #expect(error.status == status, sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    func dv() throws -> (E2EEClient, E2EEExchange) {
        let client = try self.fixture.client(.dv(version: 2), .ecdsa)
        return (client, try self.fixture.exchange(E2EEHeaders(client.headers), .chatCompletions))
    }

    func dvAAD(model: String, m: Int) -> [UInt8] {
        E2EEAAD.dvRequest(algo: .ecdsa, model: model, messageIndex: m, contentIndex: nil,
                          nonce: self.fixture.world.dv_nonce, timestamp: self.fixture.world.timestamp)
    }

    func aci() throws -> (E2EEClient, E2EEExchange) {
        let client = try self.fixture.aciClient(.x25519)
        return (client, try self.fixture.exchange(E2EEHeaders(client.headers), .chatCompletions))
    }

    func aciSeal(_ client: E2EEClient, _ text: String, model: String = "m", field: String) throws -> String {
        try client.sealRequestField(text, aad: E2EEAAD.aciRequest(
            suite: .x25519, model: model, field: field, nonce: self.fixture.world.aci_nonce, timestamp: self.fixture.world.timestamp))
    }

    static func body(_ object: Any) throws -> [UInt8] { try ExchangeFixture.bytes(object) }

    // MARK: DV

    @Test func dvRequests() throws {
        let (client, exchange) = try self.dv()
        let good = try client.sealRequestField("secret prompt", aad: self.dvAAD(model: "m", m: 0))
        func open(_ body: [UInt8]) throws { var copy = exchange; _ = try copy.openRequest(body) }

        var tampered = Array(good.utf8)
        tampered[tampered.count - 1] = tampered.last == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "messages": [["content": String(decoding: tampered, as: UTF8.self)]]])) }
        // Wrong AAD: another model, another message index.
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "n", "messages": [["content": good]]])) }
        self.expectError("e2ee_decryption_failed") {
            try open(try Self.body(["model": "m", "messages": [["role": "system", "content": try client.sealRequestField("s", aad: self.dvAAD(model: "m", m: 0))], ["content": good]]]))
        }
        // Plaintext, empty, non-hex content: DV's catch-all.
        for content in ["hello", "", "zz", "0x" + good, String(good.dropLast())] {
            self.expectError("invalid_e2ee_request") { try open(try Self.body(["model": "m", "messages": [["content": content]]])) }
        }
        // A plaintext twin of an encrypted content (vLLM would read the last one) is refused, not forwarded.
        self.expectError("invalid_e2ee_request") { try open(Array(#"{"model":"m","messages":[{"content":"\#(good)","content":"plain"}]}"#.utf8)) }
        // Not a JSON object, truncated, too deep.
        for text in [#"[1]"#, #""x""#, #"{"model":"m","messages":[{"content":"#, "", String(repeating: "[", count: 600) + String(repeating: "]", count: 600)] {
            self.expectError("invalid_e2ee_request") { try open(Array(text.utf8)) }
        }
        // A model that has no Python `str` we reproduce.
        self.expectError("invalid_e2ee_request") { try open(try Self.body(["model": ["a"], "messages": [["content": good]]])) }
        // Other types pass as DV lets them (nothing to decrypt there).
        var copy = exchange
        let body = Array(#"{"model":"m","messages":[{"content":5},{"content":[{"type":"text","text":7},"x"]},"m"]}"#.utf8)
        #expect(try copy.openRequest(body) == body)
    }

    @Test func uncoveredEndpointsComeFirst() throws {
        let client = try self.fixture.client(.dv(version: 2), .ecdsa)
        // DV checks the endpoint before the keys: a wrong model key still gets the endpoint's error.
        for endpoint in [E2EEEndpoint.completions, .embeddings, .rerank, .score, .responses, .messages, .other] {
            let error = self.expectError("invalid_e2ee_request") {
                _ = try self.fixture.exchange(self.fixture.headers(client, dropping: ["x-model-pub-key"], adding: [("X-Model-Pub-Key", "00")]), endpoint)
            }
            #expect(error?.message == "E2EE is only supported on /v1/chat/completions")
        }
        let near = try self.fixture.client(.near(version: 2), .ed25519)
        for endpoint in [E2EEEndpoint.responses, .messages, .other] {
            self.expectError("bad_request") { _ = try self.fixture.exchange(E2EEHeaders(near.headers), endpoint) }
        }
        let aci = try self.fixture.aciClient(.secp256k1)
        for endpoint in [E2EEEndpoint.rerank, .score, .responses, .messages, .other] {
            self.expectError("e2ee_unsupported_endpoint") { _ = try self.fixture.exchange(E2EEHeaders(aci.headers), endpoint) }
        }
        let legacy = self.fixture.headers(client, dropping: ["x-e2ee-version", "x-e2ee-nonce", "x-e2ee-timestamp"])
        self.expectError("invalid_e2ee_request") { _ = try self.fixture.exchange(legacy, .responses) }
        // Mixed dialects in the headers.
        self.expectError("invalid_e2ee_request") {
            _ = try self.fixture.exchange(self.fixture.headers(client, adding: [("X-Encryption-Version", "2")]), .chatCompletions)
        }
    }

    // MARK: NEAR

    @Test func nearRequests() throws {
        let client = try self.fixture.client(.near(version: 2), .ed25519)
        let exchange = try self.fixture.exchange(E2EEHeaders(client.headers), .completions)
        func open(_ body: [UInt8]) throws { var copy = exchange; _ = try copy.openRequest(body) }
        let good = try client.sealRequestField("p")
        var tampered = Array(good.utf8)
        tampered[70] = tampered[70] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        let error = self.expectError("bad_request") { try open(try Self.body(["prompt": String(decoding: tampered, as: UTF8.self)])) }
        #expect(error?.message == "Decryption failed")
        self.expectError("bad_request") { try open(try Self.body(["prompt": ["zz"]])) }
        self.expectError("bad_request") { try open(Array("[]".utf8)) }
        self.expectError("bad_request") { try open(Array("{".utf8)) }
        // Wrong types pass (NEAR decrypts strings only).
        var copy = exchange
        #expect(try copy.openRequest(Array(#"{"prompt":5}"#.utf8)) == Array(#"{"prompt":5}"#.utf8))
        // All-fields fields are opened leniently: a plaintext tool name stays.
        var all = try self.fixture.exchange(self.fixture.headers(client, adding: [("X-Encrypt-All-Fields", "true")]), .chatCompletions)
        let body = Array(#"{"messages":[{"role":"tool","name":"plain","content":""}],"tools":[{"function":{"name":"f","parameters":{"type":"object"}}}]}"#.utf8)
        #expect(try all.openRequest(body) == body)
    }

    // MARK: ACI

    @Test func aciRequests() throws {
        let (client, exchange) = try self.aci()
        func open(_ body: [UInt8], _ copy: E2EEExchange? = nil) throws { var copy = copy ?? exchange; _ = try copy.openRequest(body) }
        let good = try self.aciSeal(client, "q", field: "messages.0.content")
        var tampered = Array(good.utf8)
        tampered[100] = tampered[100] == UInt8(ascii: "a") ? UInt8(ascii: "b") : UInt8(ascii: "a")
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "messages": [["content": String(decoding: tampered, as: UTF8.self)]]])) }
        // Field path and model are bound.
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "messages": [["content": "x"], ["content": good]]])) }
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m2", "messages": [["content": good]]])) }
        self.expectError("e2ee_decryption_failed") {
            try open(try Self.body(["model": "m", "messages": [["content": [["type": "text", "text": good]]]]]))
        }
        // Model missing or not a string; body not an object; not JSON.
        self.expectError("e2ee_invalid_payload_model") { try open(try Self.body(["messages": [["content": good]]])) }
        self.expectError("e2ee_invalid_payload_model") { try open(try Self.body(["model": 1, "messages": [["content": good]]])) }
        self.expectError("e2ee_invalid_payload_model") { try open(Array("[1]".utf8)) }
        self.expectError("e2ee_decryption_failed") { try open(Array("{\"model\":".utf8)) }
        // At least one encrypted field; the places that must be encrypted are.
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "messages": [["content": NSNull()]]])) }
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "messages": "x"])) }
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "messages": [["content": "plain"], ["content": good]]])) }
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "messages": [["content": "zz"]]])) }
        let completions = try self.fixture.exchange(E2EEHeaders(client.headers), .completions)
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m"]), completions) }
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "prompt": 5]), completions) }
        self.expectError("e2ee_decryption_failed") { try open(try Self.body(["model": "m", "prompt": [[1, 2]]]), completions) }
    }

    // MARK: Answers

    @Test func answersThatCannotBeSealed() throws {
        let (_, dv) = try self.dv()
        let (_, aci) = try self.aci()
        let near = try self.fixture.exchange(E2EEHeaders(try self.fixture.client(.near(version: 1), .ecdsa).headers), .chatCompletions)
        for exchange in [dv, aci, near] {
            for text in ["", "{", #"{"choices":[{"message":{"content":"\ud800"}}]}"#, "{} x"] {
                self.expectError("server_error", status: 502) { _ = try exchange.sealResponse(Array(text.utf8)) }
            }
            var stream = exchange.streamSealer()
            self.expectError("server_error", status: 502) {
                _ = try Array("data: not json\n".utf8).withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) }
            }
            // JSON that is not an object has no place for sealed fields: nothing of it may go out, whole or streamed.
            for text in ["[1,2]", #""text""#, "42", "null", "true"] {
                self.expectError("server_error", status: 502) { _ = try exchange.sealResponse(Array(text.utf8)) }
                self.expectError("server_error", status: 502) {
                    _ = try Array("data: \(text)\n".utf8).withUnsafeBytes { raw throws(E2EEError) in try stream.consume(raw) }
                }
            }
        }
        // ACI refuses a non-string where it seals a string (its gateway's rule), DV too (it seals strings only);
        // NEAR seals the list's text.
        let odd = Array(#"{"choices":[{"message":{"content":[{"type":"text","text":"x"}]}}]}"#.utf8)
        self.expectError("server_error", status: 502) { _ = try aci.sealResponse(odd) }
        self.expectError("server_error", status: 502) { _ = try dv.sealResponse(odd) }
        #expect(try ExchangeFixture.object(try near.sealResponse(odd)) as? NSDictionary != ExchangeFixture.object(odd) as? NSDictionary)
    }

    /// No message quotes the body, a field, a key or a plaintext.
    @Test func messagesCarryNoInput() throws {
        let (client, exchange) = try self.dv()
        let secret = "SECRET-PLAINTEXT"
        let field = try client.sealRequestField(secret, aad: self.dvAAD(model: "m", m: 0))
        let error = self.expectError("e2ee_decryption_failed") {
            var copy = exchange
            _ = try copy.openRequest(try Self.body(["model": "other", "messages": [["content": field]]]))
        }
        for text in [error?.message ?? "", error?.description ?? ""] {
            #expect(!text.contains(secret) && !text.contains(String(field.prefix(16))))
        }
    }
}
