import Foundation
import Testing

@testable import MockVLLM

@Suite("Speech-to-text routes: multipart in, vLLM's JSON or stream out")
struct AudioRoutesTests {
    static let boundary = "mock-boundary-7"

    /// A multipart body with a 40 000-byte "audio" file (two seconds at 16 kHz 16-bit) and `fields`.
    static func form(_ fields: [(String, String)], file: Bool = true) -> String {
        var body = ""
        for (name, value) in fields {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        if file {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
            body += "Content-Type: audio/wav\r\n\r\n" + String(repeating: "R", count: 40_000) + "\r\n"
        }
        return body + "--\(boundary)--\r\n"
    }

    static func post(port: Int, path: String, body: String) async throws -> TestResponse {
        try await TestClient.post(port: port, path: path, body: body, contentType: "multipart/form-data; boundary=\(boundary)")
    }

    @Test("transcription answers text and usage in seconds; translation answers text only; neither has an id")
    func json() async throws {
        let (transcription, translation) = try await withMockVLLM { port in
            (
                try await Self.post(port: port, path: "/v1/audio/transcriptions", body: Self.form([("model", "tiny")])),
                try await Self.post(port: port, path: "/v1/audio/translations", body: Self.form([]))
            )
        }
        #expect(transcription.status == 200)
        #expect(transcription.header("content-type") == ["application/json"])
        #expect(JSONSkeleton.of(transcription.body) == #"{"text":"…","usage":{"type":"duration","seconds":0}}"#)
        #expect(transcription.bodyText.hasSuffix(#""seconds":2}}"#))
        #expect(JSONSkeleton.of(translation.body) == #"{"text":"…"}"#)
    }

    @Test("stream=true: transcription.chunk events with one id, finish_reason on the last, usage when asked, then [DONE]")
    func streamed() async throws {
        let response = try await withMockVLLM(configuration: .init(tokens: 5)) { port in
            try await Self.post(
                port: port,
                path: "/v1/audio/transcriptions",
                body: Self.form([("stream", "true"), ("stream_include_usage", "true")])
            )
        }
        #expect(response.header("content-type") == ["text/event-stream; charset=utf-8"])
        let events = try #require(BodyText.events(response.body))
        #expect(events.count == 7)  // 5 chunks, usage, [DONE]
        #expect(events.last == "[DONE]")
        let ids = Set(events.dropLast().compactMap(BodyText.id(of:)))
        #expect(ids.count == 1)
        #expect(BodyText.isVLLMID(try #require(ids.first), prefix: "transcribe-"))
        #expect(events[0].contains(#""object":"transcription.chunk""#))
        #expect(events[0].hasSuffix(#""choices":[{"delta":{"content":"\u0010"}}]}"#))
        #expect(events[4].hasSuffix(#""finish_reason":"length","stop_reason":null}]}"#))
        #expect(events[5].contains(#""choices":[],"usage":{"prompt_tokens":"#))
    }

    @Test("bad inputs: not multipart, no file, a file field without a filename, stream options without stream")
    func badInputs() async throws {
        let responses = try await withMockVLLM { port in
            [
                try await TestClient.post(port: port, path: "/v1/audio/transcriptions", body: "{}"),
                try await Self.post(port: port, path: "/v1/audio/transcriptions", body: Self.form([("model", "tiny")], file: false)),
                try await Self.post(port: port, path: "/v1/audio/transcriptions", body: Self.form([("file", "text")], file: false)),
                try await Self.post(port: port, path: "/v1/audio/translations", body: Self.form([("stream_include_usage", "true")])),
                try await Self.post(port: port, path: "/v1/audio/transcriptions", body: Self.form([("model", "nope")])),
                try await Self.post(port: port, path: "/v1/audio/transcriptions", body: "--\(Self.boundary)\r\nbroken"),
            ]
        }
        #expect(responses.map(\.status) == [400, 400, 400, 400, 404, 400])
        #expect(responses[1].bodyText.contains("'loc': 'body.file'"))
    }
}
