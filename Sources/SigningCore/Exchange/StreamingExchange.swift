import NIOCore

/// Per-response state of a streamed completion: hashes every byte, finds the chat id, and decides
/// which chunks may be written at once and which must wait for the signature.
///
/// The chunk that completes the `data: [DONE]` line, and anything after it, is held back until the
/// upstream body ends. The caller then signs and stores first and writes the held bytes last, so a
/// client that reads `[DONE]` and asks for the signature at once never gets a 404 (docs/API.md, Completions).
/// Held bytes are hashed when they are consumed; the caller must write every consumed byte, or store
/// nothing.
package struct StreamingExchange: Sendable {
    package enum Disposition: Sendable {
        /// Write this buffer to the client now.
        case forward(ByteBuffer)
        /// The buffer was added to the held bytes; write them after signing.
        case held
    }

    private var digest = StreamDigest()
    private var scanner = ChatIDScanner()
    private var heldBuffers: [ByteBuffer] = []

    package init() {}

    /// Takes the next upstream chunk, in order.
    package mutating func consume(_ buffer: ByteBuffer) -> Disposition {
        digest.update(buffer)
        if !scanner.sawDone {
            _ = scanner.feed(buffer)
        }
        if scanner.sawDone {
            heldBuffers.append(buffer)
            return .held
        }
        return .forward(buffer)
    }

    /// The chat id of the first event that carried one.
    package var chatID: String? { scanner.chatID }

    /// Whether a complete `data: [DONE]` line has passed.
    package var sawDone: Bool { scanner.sawDone }

    /// Bytes consumed so far.
    package var byteCount: Int { digest.byteCount }

    /// Lowercase hex SHA-256 of every consumed byte.
    package var responseHash: String { digest.finalizeHex() }

    /// Takes the held bytes out, to be written after the signature is stored.
    package mutating func takeHeld() -> [ByteBuffer] {
        defer { heldBuffers = [] }
        return heldBuffers
    }
}
