import E2EE
import NIOCore
import NIOHTTP1

extension ExchangeStateMachine {
    /// What the glue does after an event.
    enum Action {
        case none
        /// Nothing to do but count (and perhaps log) what happened.
        case note(Note)
        /// Answer `error` at once and close the connection after it: the request's body is not (or no
        /// longer) read, so the connection cannot carry another request.
        case refuse(OpenAIError)
        /// Get a connection from the pool (`fresh`: not one idle in it) and report it with
        /// ``upstreamConnected(reused:)`` or ``upstreamConnectFailed(_:)``. `model` is the request's
        /// top-level `model`, when it has one.
        case connectUpstream(fresh: Bool, model: String?)
        /// A connection arrived for an exchange that ended meanwhile: back to the pool, untouched.
        case releaseUnusedConnection
        case sendUpstream(HTTPRequestHead, body: ByteBuffer?)
        /// Claim the encrypted request's nonce in the replay store and report ``replayClaimed(_:)``.
        case claimReplay(E2EEExchange)
        /// Look the record up: answer it with ``signatureAnswered(_:)``, or, when `mayWait` and it is
        /// still being published, report ``signaturePending()``.
        case lookUpSignature(chatID: String, algorithm: String?, mayWait: Bool)
        /// Call ``lookupTimerFired(now:)`` after this long.
        case retryLookup(in: TimeAmount)
        /// Relay a stream's bytes, after its head when this is the first write.
        case forward(head: HTTPResponseHead?, body: ByteBuffer)
        case flush
        case pauseUpstreamReads
        case resumeUpstreamReads
        /// Write a whole answer and end the exchange.
        case respond(Response, upstream: UpstreamDisposal, note: Note?)
        /// End a relayed stream: its head if nothing was written yet, then the bytes held back with its
        /// terminal event, recorded by `receipt` before they are written.
        case finishStream(head: HTTPResponseHead?, held: [ByteBuffer], receipt: Receipt, upstream: UpstreamDisposal, close: Bool)
        /// End the exchange without a proper end (the client left, or the upstream cut a stream): the
        /// client connection closes and its truncated answer is never signed.
        case abandon(upstream: UpstreamDisposal, note: Note?)
    }

    /// A whole answer.
    struct Response {
        var head: HTTPResponseHead
        /// nil for a HEAD request.
        var body: ByteBuffer?
        /// The connection closes after it.
        var close: Bool
        var receipt: Receipt
    }

    /// What a finished answer leaves to record.
    enum Receipt: Equatable {
        /// Not a signed answer (an error, an unsigned route, the models list).
        case none
        /// Sign `requestHash:responseHash` under `chatID`; publish it once the answer's last byte is written.
        /// `inline`: the answer carries the receipt itself, in its headers or, for a stream, in an SSE
        /// comment after its last event (docs/API.md, Inline receipts).
        case sign(chatID: String, requestHash: String, responseHash: String, inline: Bool)
        /// A signed route's success that cannot be signed.
        case unsigned(Unsigned)
    }

    enum Unsigned: Equatable {
        /// The stream carried an error event (or a failed Responses event).
        case errorEvent
        /// The answer has no usable string id.
        case noID
        /// The upstream ended before the stream's terminal event.
        case cut
    }

    /// What becomes of the exchange's upstream connection.
    enum UpstreamDisposal: Equatable {
        /// Nothing: there is none, or it is still needed.
        case keep
        /// Back to the pool; reused for another request only if `reusable`.
        case release(reusable: Bool)
        /// Closed mid-answer; never reused.
        case drop
    }

    /// Events that are counted in the metrics and logged.
    enum Note: Equatable {
        /// A proxied request failed its checks (docs/API.md, Completions).
        case rejected
        case upstreamUnavailable(String)
        /// A status that cannot be passed on with a body.
        case upstreamBadStatus(Int)
        /// A buffered answer over `maxUpstreamResponseSize`.
        case upstreamOverLimit
        /// A 200 that is neither JSON nor SSE on a route that relays only those.
        case upstreamNotJSON
        /// A non-200 answer, relayed.
        case upstreamStatus
        case streaming
        case json
        case upstreamTimeout
        case cutMidStream(String)
        case silentMidStream
        case clientLeft
        /// An E2EE answer that could not be encrypted: withheld.
        case unsealable
    }
}
