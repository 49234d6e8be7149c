import E2EE
import HTTPTypes

extension OpenAIError {
    /// An E2EE refusal in the OpenAI envelope, with the dialect's `type` and fixed message (docs/E2EE.md, Errors).
    init(e2ee error: E2EEError) {
        self.init(status: HTTPResponse.Status(code: error.status), type: error.type, message: error.message)
    }
}
