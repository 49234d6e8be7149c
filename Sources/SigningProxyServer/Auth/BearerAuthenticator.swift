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
    /// - Returns: which of the tokens it is (its position in `TOKEN`), to apply per-token limits.
    @discardableResult
    package func authenticate(authorization: String?, apiKey: String?) throws(OpenAIError) -> Int {
        if authorization == nil, var key = apiKey {
            guard let index = match(&key, from: 0) else { throw .invalidToken }
            return index
        }
        return try authenticate(authorization: authorization)
    }

    /// The same check on the `Authorization` value itself, for callers that parsed headers their own way.
    /// - Returns: which of the tokens it is (its position in `TOKEN`).
    @discardableResult
    package func authenticate(authorization: String?) throws(OpenAIError) -> Int {
        guard var header = authorization, header.hasPrefix("Bearer ") else {
            throw .missingAuthorization
        }
        guard let index = match(&header, from: 7) else { throw .invalidToken }
        return index
    }

    /// Which token `value` from byte `offset` on is, if any.
    private func match(_ value: inout String, from offset: Int) -> Int? {
        // Compare against every token without early exit, so timing reveals neither which token
        // matched nor how long a matching prefix was.
        let found = value.withUTF8 { utf8 -> Int in
            let presented = UnsafeBufferPointer(rebasing: utf8[offset...])
            var found = -1
            for (index, token) in tokens.enumerated() {
                let equal = token.withUnsafeBufferPointer { (bytes: UnsafeBufferPointer<UInt8>) in Self.constantTimeEquals(presented, bytes) }
                // Arithmetic, not a branch: the same work whichever token matched.
                found += (index - found) * Int(equal)
            }
            return found
        }
        return found >= 0 ? found : nil
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
