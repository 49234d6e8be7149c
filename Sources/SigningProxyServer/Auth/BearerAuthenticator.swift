import HTTPTypes

/// Checks `Authorization: Bearer <token>` against the configured tokens in constant time (docs/API.md, Authentication).
package struct BearerAuthenticator: Sendable {
    private let tokens: [[UInt8]]

    package init(tokens: [String]) {
        self.tokens = tokens.map { Array($0.utf8) }
    }

    /// Throws the 401 envelope unless the header carries one of the tokens.
    package func authenticate(_ headers: HTTPFields) throws(OpenAIError) {
        try authenticate(authorization: headers[.authorization])
    }

    /// The check for a proxied route: the token as `Authorization: Bearer`, or, without that header, as
    /// `x-api-key`, which is how Anthropic's SDKs send it (docs/API.md, Authentication).
    package func authenticate(authorization: String?, apiKey: String?) throws(OpenAIError) {
        if authorization == nil, var key = apiKey {
            guard matches(&key, from: 0) else { throw .invalidToken }
            return
        }
        try authenticate(authorization: authorization)
    }

    /// The same check on the `Authorization` value itself, for callers that parsed headers their own way.
    package func authenticate(authorization: String?) throws(OpenAIError) {
        guard var header = authorization, header.hasPrefix("Bearer ") else {
            throw .missingAuthorization
        }
        guard matches(&header, from: 7) else { throw .invalidToken }
    }

    /// Whether `value` from byte `offset` on is one of the tokens.
    private func matches(_ value: inout String, from offset: Int) -> Bool {
        // Compare against every token without early exit, so timing reveals neither which token
        // matched nor how long a matching prefix was.
        let matched = value.withUTF8 { utf8 -> UInt8 in
            let presented = UnsafeBufferPointer(rebasing: utf8[offset...])
            var matched: UInt8 = 0
            for token in tokens {
                matched |= token.withUnsafeBufferPointer { (bytes: UnsafeBufferPointer<UInt8>) in Self.constantTimeEquals(presented, bytes) }
            }
            return matched
        }
        return matched == 1
    }

    /// 1 when equal, 0 otherwise; time depends only on the lengths.
    static func constantTimeEquals(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        let count = max(a.count, b.count)
        for index in 0..<count {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0 ? 1 : 0
    }
}
