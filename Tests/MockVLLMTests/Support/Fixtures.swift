import Foundation
import TestFixtures

/// The repository's fixture locator, visible to every file of this module without an import.
typealias Fixtures = TestFixtures.Fixtures

/// The recorded vLLM answers in `Fixtures/vllm/` and the requests they answer.
extension Fixtures {
    /// The bytes of `vllm/<name>.body`.
    static func body(_ name: String) throws -> [UInt8] {
        try bytes("vllm/\(name).body")
    }

    /// SHA-256 of each body, as listed in `Fixtures/vllm/NOTICE.md`.
    static let sha256: [String: String] = [
        "chat-stream": "83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538",
        "chat-stream-n2": "81cb7bae90ba75006f9b74a8ca088df69589f936c1897755ea6428157018796c",
        "chat": "a211b2cc10987b61466c2cc3f275d01c593912f446077d74e0c91a3669306405",
        "completion-stream": "0dae39fff9572386b3480178d424b3a3c54ff2b42bc00b510a84eac0b8d25769",
        "completion": "c6d8a0fa6226785a46923e9851d70d165ee48a5c9230fb1181c2973aa2abc005",
        "error-unknown-model": "f05f2599d899579e2d8b707fccc6802278e908b96511be1a920d19e274e04aa1",
        "error-too-long": "ea66513cfc174bf16ddcbbacc131113e1c6494e3c39bdaa2e90a8db52edaad98",
        "error-stream-too-long": "ea66513cfc174bf16ddcbbacc131113e1c6494e3c39bdaa2e90a8db52edaad98",
        "error-bad-json": "f36a84f43715dd575d311dccbd501ccbda3dbf120a754ae990a0d5b6da4d4142",
        "models": "1d257b6265625dcde2c9064670257e74931c0d1aa4a739ddab71f3e5d04b559d",
    ]

    /// The request the chat fixtures were recorded with (`Fixtures/vllm/NOTICE.md`), streaming with usage.
    static let chatStreamRequest =
        #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"seed":1}"#
    /// The non-streaming chat request of `chat.body`.
    static let chatRequest = #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":8,"seed":1}"#
    /// The request of `completion-stream.body`.
    static let completionStreamRequest = #"{"model":"tiny","prompt":"hello","max_tokens":8,"stream":true}"#
    /// The request of `completion.body`.
    static let completionRequest = #"{"model":"tiny","prompt":"hello","max_tokens":8}"#
}
