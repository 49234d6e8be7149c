import Foundation
import Testing

@testable import SigningProxyVerifier

/// The verifier's own reading of each signed route's answer, on the real vLLM 0.32 captures
/// (`Fixtures/vllm`, `Fixtures/vllm-routes`, see their NOTICE.md).
@Suite("ResponseReading: ids and clean ends of every signed route, from real captures")
struct ResponseReadingTests {
    /// A capture: its body and the content type its headers name.
    static func capture(_ name: String) throws -> (body: [UInt8], contentType: String?) {
        let headers = String(decoding: try Fixtures.bytes("\(name).headers"), as: UTF8.self)
        let contentType = headers.split(whereSeparator: \.isNewline).first { $0.lowercased().hasPrefix("content-type:") }
            .map { String($0.dropFirst("content-type:".count)).trimmingCharacters(in: .whitespaces) }
        return (try Fixtures.bytes("\(name).body"), contentType)
    }

    static let signed: [(name: String, route: SignedRoute, stream: Bool, idPrefix: String)] = [
        ("vllm/chat", .chatCompletions, false, "chatcmpl-"),
        ("vllm/chat-stream", .chatCompletions, true, "chatcmpl-"),
        ("vllm/chat-stream-n2", .chatCompletions, true, "chatcmpl-"),
        ("vllm/completion", .completions, false, "cmpl-"),
        ("vllm/completion-stream", .completions, true, "cmpl-"),
        ("vllm-routes/responses", .responses, false, "resp_"),
        ("vllm-routes/responses-completed", .responses, false, "resp_"),
        ("vllm-routes/responses-stream", .responses, true, "resp_"),
        ("vllm-routes/responses-stream-completed", .responses, true, "resp_"),
        ("vllm-routes/responses-stream-stored", .responses, true, "resp_"),
        ("vllm-routes/messages", .messages, false, "chatcmpl-"),
        ("vllm-routes/messages-stream", .messages, true, "chatcmpl-"),
        ("vllm-routes/embeddings", .embeddings, false, "embd-"),
        ("vllm-routes/rerank", .rerank, false, "score-"),
        ("vllm-routes/score", .score, false, "score-"),
        ("vllm-routes/pooling", .pooling, false, "pooling-"),
    ]

    @Test("every signed capture has its id and ends cleanly", arguments: signed.indices)
    func signedCaptures(index: Int) throws {
        let entry = Self.signed[index]
        let capture = try Self.capture(entry.name)
        let reading = ResponseReading.read(capture.body, route: entry.route, contentType: capture.contentType)
        #expect(reading.isStream == entry.stream, "\(entry.name)")
        #expect(reading.ending == .clean, "\(entry.name): \(reading.summary)")
        #expect(reading.id?.hasPrefix(entry.idPrefix) == true, "\(entry.name): \(reading.summary)")
        #expect(reading.isSignable)
    }

    @Test("the ids are the ones the captures carry where the grammar puts them")
    func exactIDs() throws {
        let responses = try Self.capture("vllm-routes/responses-stream")
        #expect(ResponseReading.read(responses.body, route: .responses, contentType: responses.contentType).id == "resp_997fd5f4a52da6cd")
        let messages = try Self.capture("vllm-routes/messages-stream")
        #expect(ResponseReading.read(messages.body, route: .messages, contentType: messages.contentType).id == "chatcmpl-befba0a404e72f10")
        let chat = try Self.capture("vllm/chat-stream")
        #expect(ResponseReading.read(chat.body, route: .chatCompletions, contentType: chat.contentType).id == "chatcmpl-bd7f0789f54390b4")
    }

    @Test("a stream cut anywhere before the end of its terminal event is never signable",
        arguments: ["vllm/chat-stream", "vllm/completion-stream", "vllm-routes/responses-stream", "vllm-routes/messages-stream"])
    func cutStreams(name: String) throws {
        let capture = try Self.capture(name)
        let route: SignedRoute =
            name.contains("responses") ? .responses : name.contains("messages") ? .messages : name.contains("completion-") ? .completions : .chatCompletions
        // Every cut in the last 400 bytes (where the terminal event is), and every 13th byte before that.
        let tail = max(0, capture.body.count - 400)
        for length in Array(stride(from: 0, to: tail, by: 13)) + Array(tail..<capture.body.count) {
            let reading = ResponseReading.read(capture.body.prefix(length), route: route, contentType: capture.contentType)
            #expect(!reading.isSignable, "\(name) cut at \(length): \(reading.summary)")
            if case .incomplete = reading.ending {} else { Issue.record("\(name) cut at \(length): \(reading.summary)") }
        }
    }

    @Test("error and response.failed events leave a Responses or Messages stream unsigned, wherever they come")
    func failureEvents() throws {
        let responses = try Self.capture("vllm-routes/responses-stream")
        let text = String(decoding: responses.body, as: UTF8.self)
        let terminal = try #require(text.range(of: "event: response.completed"))
        for inserted in [
            "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\",\"param\":null,\"sequence_number\":9}\n\n",
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"resp_997fd5f4a52da6cd\",\"status\":\"failed\"}}\n\n",
            // Without an event line, the data's type names the event.
            "data: {\"type\":\"error\",\"message\":\"boom\"}\n\n",
        ] {
            var changed = text
            changed.insert(contentsOf: inserted, at: terminal.lowerBound)
            let reading = ResponseReading.read(Array(changed.utf8), route: .responses, contentType: responses.contentType)
            #expect(!reading.isSignable)
            if case .failed = reading.ending {} else { Issue.record("not failed: \(reading.summary)") }
            #expect(reading.id == "resp_997fd5f4a52da6cd")
        }
        // A stream that only reports a failure, with no completed event.
        let failedOnly = String(text[..<terminal.lowerBound]) + "event: response.failed\ndata: {\"type\":\"response.failed\"}\n\n"
        #expect(!ResponseReading.read(Array(failedOnly.utf8), route: .responses, contentType: responses.contentType).isSignable)

        let messages = try Self.capture("vllm-routes/messages-stream")
        var changed = String(decoding: messages.body, as: UTF8.self)
        let stop = try #require(changed.range(of: "event: message_stop"))
        changed.insert(contentsOf: "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n", at: stop.lowerBound)
        let reading = ResponseReading.read(Array(changed.utf8), route: .messages, contentType: messages.contentType)
        #expect(reading.ending == .failed("an error event"))
    }

    @Test("a chat or completion stream with a data: {\"error\": …} event before [DONE] is unsigned (vLLM's mid-stream failure)")
    func chatErrorEvent() throws {
        for name in ["vllm/chat-stream", "vllm/completion-stream"] {
            let capture = try Self.capture(name)
            var text = String(decoding: capture.body, as: UTF8.self)
            let done = try #require(text.range(of: "data: [DONE]"))
            text.insert(
                contentsOf: "data: {\"error\": {\"object\": \"error\", \"message\": \"boom\", \"type\": \"InternalServerError\", \"code\": 500}}\n\n",
                at: done.lowerBound)
            let route: SignedRoute = name.contains("chat") ? .chatCompletions : .completions
            let reading = ResponseReading.read(Array(text.utf8), route: route, contentType: capture.contentType)
            #expect(!reading.isSignable)
            if case .failed = reading.ending {} else { Issue.record("\(name): \(reading.summary)") }
        }
        // A choice's text that merely mentions "error" is no error event.
        let chat = String(decoding: try Self.capture("vllm/chat-stream").body, as: UTF8.self)
        #expect(ResponseReading.read(Array(chat.utf8), route: .chatCompletions, contentType: "text/event-stream").isSignable)
    }

    @Test("response.incomplete is a clean end; CRLF and CR line ends read the same; comments are ignored")
    func grammarEdges() throws {
        let responses = try Self.capture("vllm-routes/responses-stream")
        let text = String(decoding: responses.body, as: UTF8.self)
        let incomplete = text.replacingOccurrences(of: "event: response.completed", with: "event: response.incomplete")
        #expect(ResponseReading.read(Array(incomplete.utf8), route: .responses, contentType: responses.contentType).isSignable)
        for newline in ["\r\n", "\r"] {
            let messages = String(decoding: try Self.capture("vllm-routes/messages-stream").body, as: UTF8.self)
            let converted = messages.replacingOccurrences(of: "\n", with: newline)
            let reading = ResponseReading.read(Array(converted.utf8), route: .messages, contentType: "text/event-stream")
            #expect(reading.isSignable && reading.id == "chatcmpl-befba0a404e72f10", "\(reading.summary)")
        }
        let chat = String(decoding: try Self.capture("vllm/chat-stream").body, as: UTF8.self)
        let commented = ": keep-alive\n\n" + chat
        #expect(ResponseReading.read(Array(commented.utf8), route: .chatCompletions, contentType: "text/event-stream").isSignable)
        // A Responses stream whose first event lacks response.id names no id.
        let noID = "event: response.created\ndata: {\"type\":\"response.created\"}\n\n" + text
        #expect(!ResponseReading.read(Array(noID.utf8), route: .responses, contentType: "text/event-stream").isSignable)
    }

    @Test("error answers, id-less answers and bad bodies are not signable", arguments: [
        ("vllm/error-unknown-model", SignedRoute.chatCompletions),
        ("vllm/error-too-long", .chatCompletions),
        ("vllm/error-stream-too-long", .chatCompletions),
        ("vllm/error-bad-json", .chatCompletions),
        ("vllm-routes/error-responses-unknown-model", .responses),
        ("vllm-routes/error-responses-stream-too-long", .responses),
        ("vllm-routes/error-messages-unknown-model", .messages),
        ("vllm-routes/tokenize", .embeddings),
        ("vllm-routes/messages-count-tokens", .messages),
    ])
    func unsigned(name: String, route: SignedRoute) throws {
        let capture = try Self.capture(name)
        let reading = ResponseReading.read(capture.body, route: route, contentType: capture.contentType)
        #expect(!reading.isSignable, "\(name): \(reading.summary)")
    }

    @Test("truncated JSON, a JSON array, and a stream on a route that never streams are not signable")
    func malformed() throws {
        let embeddings = try Self.capture("vllm-routes/embeddings")
        for length in [0, 1, embeddings.body.count / 2, embeddings.body.count - 1] {
            #expect(!ResponseReading.read(embeddings.body.prefix(length), route: .embeddings, contentType: "application/json").isSignable)
        }
        #expect(!ResponseReading.read(Array(#"[{"id":"x"}]"#.utf8), route: .score, contentType: nil).isSignable)
        #expect(!ResponseReading.read(Array(#"{"id":7}"#.utf8), route: .score, contentType: nil).isSignable)
        #expect(!ResponseReading.read(Array("data: {\"id\":\"x\"}\n\ndata: [DONE]\n\n".utf8), route: .pooling, contentType: "text/event-stream").isSignable)
        #expect(!ResponseReading.read(Array("data: [DONE]\n\n".utf8), route: .chatCompletions, contentType: "text/event-stream").isSignable)
    }

    @Test("routes by path, with vLLM's aliases; anything else is not a signed route")
    func routes() {
        #expect(SignedRoute(path: "/v1/responses") == .responses)
        #expect(SignedRoute(path: "/v2/rerank") == .rerank && SignedRoute(path: "/rerank") == .rerank)
        #expect(SignedRoute(path: "/score") == .score)
        for path in ["/v1/chat/completions/", "/tokenize", "/v1/messages/count_tokens", "/v1/models", "", "/V1/responses"] {
            #expect(SignedRoute(path: path) == nil, "\(path)")
        }
        #expect(SignedRoute.allCases.filter(\.streams) == [.chatCompletions, .completions, .responses, .messages])
    }
}
