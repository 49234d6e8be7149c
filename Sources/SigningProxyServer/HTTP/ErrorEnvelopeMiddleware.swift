import HTTPTypes
import Hummingbird
import Logging

/// Renders every error that is not already an ``OpenAIError`` in the OpenAI envelope (docs/API.md, Errors).
///
/// Hummingbird's own errors (unknown route, wrong method, oversized body) would otherwise answer
/// with an empty body or plain text; internal failures answer 500 with details only in the log.
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as OpenAIError {
            throw error
        } catch let error as any HTTPResponseError {
            // Hummingbird's and NIO's own errors (HTTPError, NIOTooManyBytesError, ...) carry a status.
            switch error.status {
            case .notFound: throw OpenAIError.routeNotFound
            case .methodNotAllowed: throw OpenAIError.methodNotAllowed
            case .contentTooLarge: throw OpenAIError(status: .contentTooLarge, type: "payload_too_large", message: "Request body too large")
            case .badRequest: throw OpenAIError.badRequest
            default:
                context.logger.error("request failed", metadata: ["error.status": "\(error.status.code)"])
                throw OpenAIError.internalError
            }
        } catch {
            context.logger.error("request failed", metadata: ["error.type": "\(String(reflecting: Swift.type(of: error)))"])
            throw OpenAIError.internalError
        }
    }
}
