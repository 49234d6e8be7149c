/// Random completion ids shaped like vLLM's: `chatcmpl-` or `cmpl-` and 16 lowercase hex digits.
enum CompletionID {
    /// A fresh id for a completion of `kind`.
    static func make(for kind: CompletionRequest.Kind) -> String {
        Self.make(prefix: kind == .chat ? "chatcmpl-" : "cmpl-")
    }

    /// `prefix` followed by 16 random lowercase hex digits.
    static func make(prefix: String) -> String {
        var value = UInt64.random(in: .min ... .max)
        var digits = [UInt8](repeating: 0, count: 16)
        for index in stride(from: 15, through: 0, by: -1) {
            digits[index] = JSONText.hexDigits[Int(value & 0x0F)]
            value >>= 4
        }
        return prefix + String(decoding: digits, as: UTF8.self)
    }
}
