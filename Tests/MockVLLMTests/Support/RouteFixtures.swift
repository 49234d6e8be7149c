/// The recorded exchanges of `Fixtures/vllm-routes/` (Responses, Messages, pooling, tokenizer).
extension Fixtures {
    /// The bytes of `vllm-routes/<name>.body`.
    static func routeBody(_ name: String) throws -> [UInt8] {
        try bytes("vllm-routes/\(name).body")
    }

    /// The exact request body of `vllm-routes/<name>.request`, as text.
    static func routeRequest(_ name: String) throws -> String {
        String(decoding: try bytes("vllm-routes/\(name).request"), as: UTF8.self)
            .trimmingSuffix("\n")
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        self.hasSuffix(suffix) ? String(self.dropLast(suffix.count)) : self
    }
}
