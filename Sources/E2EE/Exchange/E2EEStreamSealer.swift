/// Seals a streamed (SSE) answer line by line.
package struct E2EEStreamSealer: Sendable {
    let exchange: E2EEExchange
    private var partial: [UInt8] = []

    init(exchange: E2EEExchange) {
        self.exchange = exchange
    }

    /// Upstream SSE bytes in (any split); out: the bytes of every complete line, `data:` JSON events sealed.
    package mutating func consume(_ bytes: UnsafeRawBufferPointer) throws(E2EEError) -> [UInt8] {
        throw .unsupportedEndpoint(.dv)
    }

    /// The held partial line, if the stream ends without a final newline.
    package mutating func finish() throws(E2EEError) -> [UInt8] {
        throw .unsupportedEndpoint(.dv)
    }
}
