/// The mock-only request fields that inject faults into one answer, read only with
/// ``MockVLLMConfiguration/requestFaults`` (vLLM ignores unknown fields, so off by default they are ignored).
///
/// One server can then mix clean answers with cuts, pacing and broken stream ends (the chaos soak, and
/// tests that need a Responses or Messages stream to end without its terminal event).
struct RequestFaults: Sendable, Hashable {
    /// How a generated event stream ends, in place of its clean terminal event. A Messages stream has only
    /// one way to fail: any value ends it with `event: error` instead of `message_stop`; a chat or text
    /// completion stream too: a `data: {"error":…}` event instead of its finishing chunk, then `[DONE]`.
    enum Terminal: String, Sendable, Hashable {
        /// Responses: `event: response.incomplete` instead of `response.completed` (a clean end).
        case incomplete
        /// Responses: `event: response.failed` instead of `response.completed`.
        case failed
        /// Responses and Messages: an `event: error` instead of the terminal event; the body then ends
        /// cleanly, so only the event says the answer failed.
        case error
    }

    /// `mock_fail_after`: overrides ``MockVLLMConfiguration/failAfter``.
    var failAfter: Int?
    /// `mock_delay_ms`: overrides ``MockVLLMConfiguration/delay``.
    var delay: Duration?
    /// `mock_header_delay_ms`: a pause before this answer's head, like the time a real model takes to
    /// generate a non-streamed answer.
    var headerDelay: Duration?
    /// `mock_terminal`: `incomplete`, `failed` or `error`.
    var terminal: Terminal?

    init(failAfter: Int? = nil, delay: Duration? = nil, headerDelay: Duration? = nil, terminal: Terminal? = nil) {
        self.failAfter = failAfter
        self.delay = delay
        self.headerDelay = headerDelay
        self.terminal = terminal
    }

    /// Reads the fields with `field` (a JSON member, or a multipart form field); nothing when the
    /// configuration does not honour request faults.
    static func parse(
        configuration: MockVLLMConfiguration,
        field: (String) -> JSONValue?
    ) -> Result<RequestFaults, VLLMErrorResponse> {
        var faults = RequestFaults()
        guard configuration.requestFaults else { return .success(faults) }
        for name in ["mock_fail_after", "mock_delay_ms", "mock_header_delay_ms"] {
            guard let value = field(name), value != .null else { continue }
            guard let number = value.integerValue, number >= 0 else {
                return .failure(.invalidField(name, expected: "a valid non-negative integer"))
            }
            switch name {
            case "mock_fail_after": faults.failAfter = number
            case "mock_delay_ms": faults.delay = .milliseconds(number)
            default: faults.headerDelay = .milliseconds(number)
            }
        }
        if let value = field("mock_terminal"), value != .null {
            guard let name = value.stringValue, let terminal = Terminal(rawValue: name) else {
                return .failure(.invalidField("mock_terminal", expected: "'incomplete', 'failed' or 'error'"))
            }
            faults.terminal = terminal
        }
        return .success(faults)
    }

    /// `configuration` with this request's cut and pacing applied.
    func applied(to configuration: MockVLLMConfiguration) -> MockVLLMConfiguration {
        var effective = configuration
        if let failAfter = self.failAfter { effective.failAfter = failAfter }
        if let delay = self.delay { effective.delay = delay }
        return effective
    }
}
