import NIOCore

/// Per-response state of a streamed answer: hashes every byte, finds its id, and decides which chunks
/// may be written at once and which must wait for the signature.
///
/// The chunk that completes the terminal event (`data: [DONE]` for chat and completions,
/// `response.completed` or `message_stop` for Responses and Messages), and anything after it, is held
/// back until the upstream body ends. The caller then signs and stores first and writes the held bytes
/// last, so a client that reads the end and asks for the signature at once never gets a 404
/// (docs/API.md, Completions). Held bytes are hashed when they are consumed; the caller must write every
/// consumed byte, or store nothing. An unsigned stream is hashed and never held.
package struct StreamingExchange: Sendable {
    package enum Disposition: Sendable {
        /// Write this buffer to the client now.
        case forward(ByteBuffer)
        /// The buffer was added to the held bytes; write them after signing.
        case held
    }

    /// How a stream's id and end are found.
    package enum Grammar: Sendable, Hashable {
        /// `data:` events with an `id`, ended by `data: [DONE]` (chat, completions, audio).
        case chat
        case responses
        case messages
        /// Relayed as is: nothing is looked for and nothing is signed.
        case unsigned
    }

    private enum Scanner: Sendable {
        case chat(ChatIDScanner)
        case events(EventStreamScanner)
        case none
    }

    private var digest = StreamDigest()
    private var scanner: Scanner
    private var heldBuffers: [ByteBuffer] = []
    private var holding = false

    package init(grammar: Grammar = .chat) {
        switch grammar {
        case .chat: scanner = .chat(ChatIDScanner())
        case .responses: scanner = .events(EventStreamScanner(dialect: .responses))
        case .messages: scanner = .events(EventStreamScanner(dialect: .messages))
        case .unsigned: scanner = .none
        }
    }

    /// Takes the next upstream chunk, in order.
    package mutating func consume(_ buffer: ByteBuffer) -> Disposition {
        digest.update(buffer)
        switch scanner {
        case .chat(var chat):
            // Emptied first so the scanner's buffers stay uniquely referenced (no copy on write).
            scanner = .none
            if !chat.sawDone { _ = chat.feed(buffer) }
            holding = chat.sawDone
            scanner = .chat(chat)
        case .events(var events):
            scanner = .none
            // Read on after the end: an error event behind it still unsigns the answer.
            _ = events.feed(buffer)
            holding = events.sawEnd
            scanner = .events(events)
        case .none:
            break
        }
        if holding {
            heldBuffers.append(buffer)
            return .held
        }
        return .forward(buffer)
    }

    /// The id of the first event that carried one.
    package var chatID: String? {
        switch scanner {
        case .chat(let chat): chat.chatID
        case .events(let events): events.id
        case .none: nil
        }
    }

    /// Whether the terminal event has passed (`data: [DONE]` for chat).
    package var sawDone: Bool { holding }

    /// Whether the stream ended as its grammar says a complete answer ends, with no failure event.
    package var endedCleanly: Bool {
        switch scanner {
        case .chat(let chat): chat.sawDone && !chat.sawError
        case .events(let events): events.sawEnd && !events.failed
        case .none: false
        }
    }

    /// Whether the stream carried an error or failure event.
    package var failed: Bool {
        switch scanner {
        case .chat(let chat): chat.sawError
        case .events(let events): events.failed
        case .none: false
        }
    }

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
