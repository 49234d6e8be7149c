import NIOCore

/// One SSE event with an `event:` line, as vLLM frames the Responses and Messages streams:
/// `event: NAME\ndata: JSON\n\n` (`vllm-routes/responses-stream.body`, `messages-stream.body`).
enum NamedEvent {
    /// The event's bytes in one exactly sized buffer.
    static func make(_ name: String, data: [UInt8]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: name.utf8.count + data.count + 16)
        buffer.writeString("event: ")
        buffer.writeString(name)
        buffer.writeString("\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        return buffer
    }
}
