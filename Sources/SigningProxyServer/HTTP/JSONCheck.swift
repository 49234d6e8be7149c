import NIOCore
import SigningCore

/// Whether a body is JSON, without keeping a parse: the proxy forwards the bytes, never a re-encoding.
///
/// Both checks are `JSONValidator`'s strict RFC 8259 reading of the bytes (UTF-8, no byte order mark,
/// no trailing commas, nesting at most 512 deep); nothing is allocated or copied.
enum JSONCheck {
    /// Any JSON document, scalars included (upstream error bodies, `/v1/models`).
    static func isJSON(_ body: ByteBuffer) -> Bool {
        JSONValidator.validate(body) != nil
    }

    /// A JSON object (completion requests and answers, docs/API.md, Completions).
    static func isObject(_ body: ByteBuffer) -> Bool {
        JSONValidator.validate(body) == .object
    }
}
