import HTTPTypes

/// Checks `Authorization: Bearer <token>` against the configured tokens in constant time (API.md §2).
package struct BearerAuthenticator: Sendable {
    private let tokens: [[UInt8]]

    package init(tokens: [String]) {
        self.tokens = tokens.map { Array($0.utf8) }
    }

    /// Throws the 401 envelope unless the header carries one of the tokens.
    package func authenticate(_ headers: HTTPFields) throws(OpenAIError) {
        guard let header = headers[.authorization], header.hasPrefix("Bearer ") else {
            throw .missingAuthorization
        }
        let presented = Array(header.utf8.dropFirst(7))
        // Compare against every token without early exit, so timing reveals neither which token
        // matched nor how long a matching prefix was.
        var matched: UInt8 = 0
        for token in tokens {
            matched |= Self.constantTimeEquals(presented, token)
        }
        guard matched == 1 else { throw .invalidToken }
    }

    /// 1 when equal, 0 otherwise; time depends only on the lengths.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> UInt8 {
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
