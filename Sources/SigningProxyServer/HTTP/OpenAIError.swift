import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SigningCore

/// An error the proxy itself answers with, rendered as the OpenAI envelope (docs/API.md, Errors).
///
/// Messages are fixed texts or echo only validated values: never bodies, tokens or keys.
package struct OpenAIError: HTTPResponseError, CustomStringConvertible, Equatable {
    package let status: HTTPResponse.Status
    package let type: String
    package let message: String
    /// `Retry-After`, in seconds, for a 429.
    package let retryAfter: Int?

    package init(status: HTTPResponse.Status, type: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.retryAfter = retryAfter
    }

    package var description: String { "\(status.code) \(type): \(message)" }

    package func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: envelope()))
    }

    /// `{"error":{"message":…,"type":…,"param":null,"code":null}}` as compact JSON.
    package func envelope() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString(#"{"error":{"message":"#)
        buffer.writeString(JSONString.quoted(message))
        buffer.writeString(#","type":"#)
        buffer.writeString(JSONString.quoted(type))
        buffer.writeString(#","param":null,"code":null}}"#)
        return buffer
    }

    /// The envelope in the shape `style`'s clients parse: Anthropic's SDKs read
    /// `{"type":"error","error":{"type":…,"message":…}}` with their own error types.
    func envelope(_ style: ProxyRoute.Envelope) -> ByteBuffer {
        guard style == .anthropic else { return envelope() }
        let anthropicType: String
        switch status.code {
        case 401: anthropicType = "authentication_error"
        case 403: anthropicType = "permission_error"
        case 404: anthropicType = "not_found_error"
        case 413: anthropicType = "request_too_large"
        case 429: anthropicType = "rate_limit_error"
        case 503: anthropicType = "overloaded_error"
        case 400..<500: anthropicType = "invalid_request_error"
        default: anthropicType = "api_error"
        }
        var buffer = ByteBuffer()
        buffer.writeString(#"{"type":"error","error":{"type":"#)
        buffer.writeString(JSONString.quoted(anthropicType))
        buffer.writeString(#","message":"#)
        buffer.writeString(JSONString.quoted(message))
        buffer.writeString("}}")
        return buffer
    }

    // MARK: The proxy's errors

    package static let missingAuthorization = OpenAIError(
        status: .unauthorized, type: "unauthorized", message: "Invalid or missing Authorization header")
    package static let invalidToken = OpenAIError(status: .unauthorized, type: "unauthorized", message: "Invalid token")
    package static let badRequest = OpenAIError(status: .badRequest, type: "bad_request", message: "Bad request")
    package static let invalidJSON = OpenAIError(status: .badRequest, type: "bad_request", message: "Invalid JSON body")
    package static let invalidReceiptRequest = OpenAIError(
        status: .badRequest, type: "bad_request", message: "X-Signing-Receipt must be \"inline\"")
    package static let invalidRequestHash = OpenAIError(
        status: .badRequest, type: "bad_request", message: "X-Request-Hash must be 64 hex characters")
    package static let e2eeUnsupported = OpenAIError(
        status: .badRequest, type: "invalid_e2ee_request", message: "E2EE is not available on this proxy")
    /// A 200 answer to an encrypted request that could not be encrypted: withheld rather than sent in the clear.
    package static let e2eeAnswerUnsealable = OpenAIError(
        status: .badGateway, type: "e2ee_encryption_failed", message: "The upstream answer could not be encrypted")
    package static let invalidSigningAlgo = OpenAIError(
        status: .badRequest, type: "invalid_signing_algo",
        message: "Invalid signing algorithm. Must be 'ed25519' or 'ecdsa'")
    package static let chatNotFound = OpenAIError(
        status: .notFound, type: "not_found", message: "Chat id not found or expired")
    package static let routeNotFound = OpenAIError(
        status: .notFound, type: "not_found", message: "This route is not served by the proxy")
    package static let multipartRequired = OpenAIError(
        status: .badRequest, type: "bad_request", message: "This route takes a multipart/form-data body")
    package static let methodNotAllowed = OpenAIError(
        status: .methodNotAllowed, type: "method_not_allowed", message: "Method not allowed")
    package static let upstreamUnavailable = OpenAIError(
        status: .badGateway, type: "upstream_error", message: "Upstream unavailable")
    package static let upstreamTimeout = OpenAIError(
        status: .gatewayTimeout, type: "upstream_timeout", message: "Upstream did not answer in time")
    package static let bodyNotAllowed = OpenAIError(
        status: .badRequest, type: "bad_request", message: "This route takes no request body")
    package static let requestTimeout = OpenAIError(
        status: .requestTimeout, type: "request_timeout", message: "The request was not received in time")
    package static let tooManyConnections = OpenAIError(
        status: .serviceUnavailable, type: "overloaded", message: "Too many connections; retry shortly")
    package static let internalError = OpenAIError(
        status: .internalServerError, type: "server_error", message: "Internal server error")

    /// 504 when vLLM sent no headers or no next chunk in time, 502 for every other transport failure.
    package static func upstreamFailure(_ error: any Error) -> OpenAIError {
        if let error = error as? UpstreamProtocolError, error.isTimeout {
            return .upstreamTimeout
        }
        return .upstreamUnavailable
    }

    package static func payloadTooLarge(limit: Int) -> OpenAIError {
        OpenAIError(
            status: .contentTooLarge, type: "payload_too_large",
            message: "Request body too large. Maximum: \(limit) bytes")
    }

    /// Over a rate or concurrency limit (docs/API.md, Rate limits).
    package static func rateLimited(retryAfter: Int) -> OpenAIError {
        OpenAIError(
            status: .tooManyRequests, type: "rate_limit_exceeded",
            message: "Rate limit exceeded; retry after \(retryAfter) s", retryAfter: retryAfter)
    }

    package static func upstreamStatus(_ code: Int) -> OpenAIError {
        OpenAIError(
            status: .init(code: code), type: "upstream_error",
            message: "Upstream request failed with status \(code)")
    }

    /// vLLM's error answer to a decrypted request, its body withheld: vLLM's messages can quote the request
    /// (a validation error carries the offending input), which is plaintext there (docs/E2EE.md, Errors).
    package static func e2eeUpstreamStatus(_ code: Int) -> OpenAIError {
        OpenAIError(
            status: .init(code: code), type: "upstream_error",
            message: "Upstream request failed with status \(code); its message is withheld, as it may quote the decrypted request")
    }
}
