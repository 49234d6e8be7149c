import NIOCore
import Testing

@testable import MockVLLM

@Suite("multipart/form-data parsing and the response store")
struct MultipartFormTests {
    @Test(
        "the boundary parameter, quoted or not, in any case; other content types have none",
        arguments: [
            ("multipart/form-data; boundary=abc", "abc" as String?),
            (#"multipart/form-data; boundary="a b""#, "a b"),
            ("Multipart/Form-Data;BOUNDARY=xyz", "xyz"),
            ("application/json", nil),
            ("multipart/form-data", nil),
            ("multipart/form-data; boundary=", nil),
        ]
    )
    func boundary(_ vector: (contentType: String, boundary: String?)) {
        #expect(MultipartForm.boundary(contentType: vector.contentType) == vector.boundary)
    }

    @Test("parts keep their exact bytes (CRLF, dashes and raw bytes inside), names and filenames; a preamble is skipped")
    func parts() throws {
        let file: [UInt8] = Array("RIFF\r\n--not-the-boundary\r\n-b".utf8) + [0, 0xFF, 0x0D, 0x0A]
        var body = Array("preamble\r\n--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ntiny\r\n".utf8)
        body += Array("--b\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\n".utf8)
        body += file + Array("\r\n--b--\r\n".utf8)
        let form = try #require(MultipartForm.parse(ByteBuffer(bytes: body), boundary: "b"))
        #expect(form.parts.map(\.name) == ["model", "file"])
        #expect(form["model"]?.content == Array("tiny".utf8))
        #expect(form["model"]?.filename == nil)
        #expect(form["file"]?.filename == "a.wav")
        #expect(form["file"]?.content == file)
        #expect(form.value("model") == .string("tiny"))
    }

    @Test(
        "broken framing is refused, not guessed",
        arguments: [
            "", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue",  // no closing delimiter
            "--b\r\nContent-Disposition: form-data; name=\"x\"\r\nno blank line\r\n--b--\r\n", "no delimiter at all",
            "--bX\r\n",
        ]
    )
    func broken(_ body: String) {
        #expect(MultipartForm.parse(ByteBuffer(string: body), boundary: "b") == nil)
    }

    @Test("form values read as integers and booleans where they are, as vLLM's form model reads them")
    func values() throws {
        let body = "--b\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n12\r\n--b\r\nContent-Disposition: form-data; name=\"s\"\r\n\r\nTrue\r\n--b--\r\n"
        let form = try #require(MultipartForm.parse(ByteBuffer(string: body), boundary: "b"))
        #expect(form.value("n") == .integer(12))
        #expect(form.value("s") == .bool(true))
        #expect(form.value("missing") == nil)
    }

    @Test("the response store keeps the newest answers up to its capacity and forgets the oldest")
    func storeCapacity() {
        let store = ResponseStore()
        let total = ResponseStore.capacity * 3 + 7
        for index in 0..<total {
            store.store(id: "resp_\(index)", body: [UInt8(index & 0xFF)])
        }
        #expect(store.body(of: "resp_0") == nil)
        #expect(store.body(of: "resp_\(total - ResponseStore.capacity - 1)") == nil)
        #expect(store.body(of: "resp_\(total - ResponseStore.capacity)") != nil)
        #expect(store.body(of: "resp_\(total - 1)") == [UInt8((total - 1) & 0xFF)])
        // Storing an id again replaces its answer without using a second place.
        store.store(id: "resp_\(total - 1)", body: [1, 2])
        #expect(store.body(of: "resp_\(total - 1)") == [1, 2])
        #expect(store.body(of: "resp_\(total - ResponseStore.capacity)") != nil)
    }
}
