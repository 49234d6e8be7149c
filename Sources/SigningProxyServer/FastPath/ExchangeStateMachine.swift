import E2EE
import NIOCore
import NIOHTTP1
import SigningCore

/// One fast-path request, from its head to the last byte of its answer, as a value: it is fed the
/// events of the client's request, the upstream answer, the client connection and the timers, and
/// returns what to do. It holds no channel, so every route's grammar and every fault is tested
/// without sockets (``ProxyExchange`` is the glue that performs the actions).
///
/// A proxied route (``RouteTable``) is hashed over the exact bytes received and sent, and a clean
/// exchange on a signed route yields a ``Receipt`` to record before its last bytes are written
/// (docs/API.md, Completions, Routes and Signatures); `/v1/models` and the unsigned routes are
/// relayed as they are.
struct ExchangeStateMachine {
    /// The proxy's settings an exchange reads.
    struct Settings: Sendable {
        var maxRequestSize: Int
        var maxUpstreamResponseSize: Int
        /// The `Host` header sent upstream and `VLLM_BASE_URL`'s path, prefixed to every upstream path.
        var upstreamHost: String
        var upstreamBasePath: String
        /// Every signed non-streamed answer carries its receipt in its headers (eager signing: the
        /// signatures exist anyway); otherwise only when asked (docs/API.md, Inline receipts).
        var receiptHeadersByDefault = false
    }

    /// The request as it arrives. Its body is kept (for the upstream request, and for one retry)
    /// and hashed as it arrives.
    private struct Reading {
        var body: ByteBuffer?
        var bytes = 0
        var digest = StreamDigest()
        /// A refusal decided at the head of a request whose body is small enough to read first.
        var rejection: OpenAIError?
    }

    /// The request on its way upstream.
    private struct Outgoing {
        /// Kept until an answer begins, while a retry may still need it.
        var body: ByteBuffer?
        var requestHash: String
        /// The request's top-level `model`, which picks the backend.
        var model: String?
        var retried = false
        /// An encrypted request's dialect and keys, which seal its answer (docs/E2EE.md).
        var e2ee: E2EEExchange?
    }

    /// A whole upstream answer being gathered: a non-streamed answer, an error answer or the models list.
    private struct Collecting {
        var status: Int
        var body: ByteBuffer?
        var contentType: String?
        var keepAlive: Bool
        var requestHash: String
        /// The request was encrypted: a 200 answer is sealed before it is hashed and sent, an error answer's body is
        /// withheld.
        var e2ee: E2EEExchange?
    }

    /// An event stream being relayed.
    private struct Streaming {
        var stream: StreamingExchange
        /// The response head waits here until the first bytes go out with it, so a stream that dies
        /// before any byte still gets a proper 502 or 504.
        var pendingHead: HTTPResponseHead?
        var keepAlive: Bool
        var requestHash: String
        /// The client connection closes after the stream (its head says so).
        var close: Bool
        /// An encrypted request's answer is sealed event by event before it is hashed and relayed.
        var sealer: E2EEStreamSealer?
    }

    private enum State {
        case readingRequest(Reading)
        /// A signature lookup is being answered.
        case lookingUp(chatID: String, algorithm: String?, deadline: NIODeadline, delay: TimeAmount)
        /// The looked-up record is being published (its answer's last bytes are being written): asked again later.
        case awaitingRecord(chatID: String, algorithm: String?, deadline: NIODeadline, delay: TimeAmount)
        /// An encrypted request's fields are open; its nonce is being claimed (DV v2, ACI v2).
        case claimingReplay(Outgoing)
        case connecting(Outgoing)
        /// The request is sent on a connection that was idle in the pool (`reused`) or fresh.
        case awaitingHead(Outgoing, reused: Bool)
        case collecting(Collecting)
        case streaming(Streaming)
        case done
        /// Only while an event is handled, so that a state's buffers are never shared (and copied) on mutation.
        case modifying
    }

    private let route: FastPathServices.Route
    private let head: HTTPRequestHead
    private let settings: Settings
    private var state: State
    /// An encrypted request's checked headers, or the refusal they earned; nil for plaintext.
    private let e2ee: Result<E2EEExchange, OpenAIError>?

    /// How long a lookup waits for a record that is being published.
    static let publicationWait = TimeAmount.seconds(2)

    /// - Parameter authentication: why the caller is refused before anything else (nil: accepted): a
    ///   proxied route's authentication, or any route's rate limit.
    /// - Parameter e2ee: a proxied request's E2EE headers, checked (docs/E2EE.md, Dispatch); nil without any.
    init(
        route: FastPathServices.Route, head: HTTPRequestHead, settings: Settings, authentication: OpenAIError?,
        e2ee: Result<E2EEExchange, OpenAIError>? = nil
    ) {
        self.route = route
        self.head = head
        self.settings = settings
        self.e2ee = e2ee
        self.state = .readingRequest(Reading(rejection: authentication))
    }

    /// The error shape this request's client parses.
    var envelope: ProxyRoute.Envelope {
        if case .proxied(let proxied) = route { return proxied.envelope }
        return .openAI
    }

    private var closeAfterResponse: Bool { !head.isKeepAlive }

    /// The client asked for the answer's receipt inline (checked in `check`).
    private var receiptRequested: Bool { head.headers.contains(name: InlineReceiptFormat.requestHeader) }

    // MARK: Request

    /// Checks what can be checked before any body byte is read.
    /// - Parameter declaresBody: the head announces body bytes.
    /// - Returns: `.refuse` to answer at once, without reading the body (the connection then closes),
    ///   or `.none` to read the request on.
    mutating func requestHead(declaresBody: Bool) -> Action {
        guard case .readingRequest(var reading) = state else { return .none }
        guard case .proxied(let proxied) = route else {
            // Only proxied routes take a body: any other is refused before a byte of it is held.
            guard declaresBody else { return .none }
            switch route {
            case .wrongMethod: return refuse(.methodNotAllowed)
            case .notServed: return refuse(.routeNotFound)
            // Answered like vLLM once the body is in; `requestBody` reads it without keeping it.
            case .redirect: return .none
            default: return refuse(.bodyNotAllowed)
            }
        }
        if let rejection = reading.rejection {
            // No body from an unauthenticated client is ever held, or even read.
            return declaresBody ? refuse(rejection) : .none
        }
        switch proxied.body {
        case .none:
            if declaresBody { return refuse(.bodyNotAllowed) }
        case .multipart:
            // vLLM parses the parts; a body that cannot be multipart is refused before it is read.
            let type = head.headers.first(name: "content-type")?.lowercased() ?? ""
            guard type.hasPrefix("multipart/form-data"), type.contains("boundary=") else {
                if declaresBody { return refuse(.multipartRequired) }
                reading.rejection = .multipartRequired
                state = .readingRequest(reading)
                return .none
            }
        case .json:
            break
        }
        if let declared = head.headers.first(name: "content-length").flatMap({ Int($0) }), declared > settings.maxRequestSize {
            return refuse(.payloadTooLarge(limit: settings.maxRequestSize))
        }
        return .none
    }

    /// A body part arrived.
    /// - Returns: `.refuse` when the body outgrew the limit, otherwise `.none`.
    mutating func requestBody(_ buffer: ByteBuffer) -> Action {
        guard case .readingRequest(var reading) = state else { return .none }
        guard reading.rejection == nil else { return .none }
        state = .modifying
        reading.bytes += buffer.readableBytes
        if reading.bytes > settings.maxRequestSize {
            return refuse(.payloadTooLarge(limit: settings.maxRequestSize))
        }
        if case .proxied = route {
            reading.digest.update(buffer)
            Self.append(buffer, to: &reading.body)
        }
        state = .readingRequest(reading)
        return .none
    }

    /// The request will never complete (refused mid-body, malformed, or too slow): nothing is sent upstream.
    mutating func requestAborted() {
        state = .done
    }

    /// The request's last part arrived.
    /// - Parameter now: the loop's clock, from which a signature lookup's wait is bounded.
    mutating func requestEnd(now: NIODeadline) -> Action {
        guard case .readingRequest(let reading) = state else { return .none }
        state = .modifying
        switch route {
        case .wrongMethod:
            return respond(.methodNotAllowed)
        case .signature(let chatID, let algorithm):
            if let rejection = reading.rejection { return respond(rejection) }
            state = .lookingUp(chatID: chatID, algorithm: algorithm, deadline: now + Self.publicationWait, delay: .milliseconds(1))
            return .lookUpSignature(chatID: chatID, algorithm: algorithm, mayWait: true)
        case .models:
            // Over the rate limit (the only refusal a models request can carry).
            if let rejection = reading.rejection { return respond(rejection) }
            state = .connecting(Outgoing(body: nil, requestHash: ""))
            return .connectUpstream(fresh: false, model: nil)
        case .redirect(let location):
            // Relative, unlike vLLM's absolute one, which names vLLM's own address.
            return respond(status: 307, body: ByteBuffer(), location: location)
        case .notServed:
            return respond(.routeNotFound)
        case .proxied(let proxied):
            let checked: (requestHash: String, model: String?)
            do {
                checked = try Self.check(reading, of: proxied, head: head, e2ee: e2ee)
            } catch {
                return respond(error, note: .rejected)
            }
            guard case .success(var exchange) = e2ee else {
                state = .connecting(Outgoing(body: reading.body, requestHash: checked.requestHash, model: checked.model))
                return .connectUpstream(fresh: false, model: checked.model)
            }
            // vLLM gets the plaintext; the hash above covers the ciphertext received (docs/E2EE.md).
            let plaintext: [UInt8]
            do {
                plaintext = try exchange.openRequest(Array((reading.body ?? ByteBuffer()).readableBytesView))
            } catch {
                return respond(OpenAIError(e2ee: error), note: .rejected)
            }
            let outgoing = Outgoing(
                body: ByteBuffer(bytes: plaintext), requestHash: checked.requestHash, model: checked.model, e2ee: exchange)
            switch exchange.context {
            case .dv, .aci:
                state = .claimingReplay(outgoing)
                return .claimReplay(exchange)
            case .near, .legacyV1:
                state = .connecting(outgoing)
                return .connectUpstream(fresh: false, model: checked.model)
            }
        }
    }

    /// The request checks of docs/API.md, Completions, in the order the Python proxy applies them.
    /// - Returns: the request hash of a signed route ("" for an unsigned one), and the request's `model`.
    private static func check(
        _ reading: Reading, of proxied: ProxyRoute, head: HTTPRequestHead, e2ee: Result<E2EEExchange, OpenAIError>?
    ) throws(OpenAIError) -> (requestHash: String, model: String?) {
        if let rejection = reading.rejection { throw rejection }
        var model: String?
        switch proxied.body {
        case .json:
            // One pass validates the body and finds its model.
            let body = reading.body ?? ByteBuffer()
            let found: String?? = body.withUnsafeReadableBytes { bytes in
                guard let scan = JSONValidator.scan(bytes, path: modelPath), scan.topLevel == .object else { return nil }
                return .some(TopLevelIDExtractor.usableString(scan.member, in: bytes))
            }
            guard let found else { throw OpenAIError.invalidJSON }
            model = found
        case .multipart, .none:
            break
        }
        if let receipt = head.headers.first(name: InlineReceiptFormat.requestHeader),
            receipt.trimmingWhitespace().lowercased() != InlineReceiptFormat.requestValue
        {
            throw OpenAIError.invalidReceiptRequest
        }
        // An encrypted request whose headers no dialect accepts is never forwarded, not even in the clear.
        if case .failure(let refusal) = e2ee { throw refusal }
        if e2ee == nil, carriesE2EE(head.headers) { throw OpenAIError.e2eeUnsupported }
        guard proxied.isSigned else { return ("", model) }
        // Every caller that passed authentication holds a TOKEN token and is privileged (docs/API.md, `X-Request-Hash`).
        return (try requestHashOverride(head.headers.first(name: "x-request-hash")) ?? reading.digest.finalizeHex(), model)
    }

    private static let modelPath = [Array("model".utf8)]

    /// The names that make a request an E2EE one (docs/E2EE.md, Dispatch).
    private static let e2eeHeaderNames = [
        "X-Signing-Algo", "X-Client-Pub-Key", "X-Model-Pub-Key", "X-E2EE-Version", "X-E2EE-Nonce", "X-E2EE-Timestamp",
        "X-Encryption-Version", "X-Encrypt-All-Fields",
    ]

    /// Whether any E2EE header is present with a value that is not blank (an empty one counts as absent, as in DV
    /// and `E2EEHeaders`); names are compared without allocating, so a plaintext request pays little.
    static func carriesE2EE(_ headers: HTTPHeaders) -> Bool {
        e2eeHeaderNames.contains { name in
            headers.contains(name: name)
                && headers[name].contains { value in value.utf8.contains { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") } }
        }
    }

    /// `X-Request-Hash`: exactly 64 hex characters after trimming, lowercased (docs/API.md, `X-Request-Hash`).
    static func requestHashOverride(_ raw: String?) throws(OpenAIError) -> String? {
        guard let raw else { return nil }
        let value = raw.trimmingWhitespace().lowercased()
        guard value.utf8.count == 64, value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { throw .invalidRequestHash }
        return value
    }

    // MARK: Signature lookups

    /// The record looked up is not published yet, but is being: the lookup is asked again after a
    /// back-off (1 ms doubling to 50 ms), so a client that has read its answer's last byte always
    /// finds the signature.
    mutating func signaturePending() -> Action {
        guard case .lookingUp(let chatID, let algorithm, let deadline, let delay) = state else { return .none }
        state = .awaitingRecord(chatID: chatID, algorithm: algorithm, deadline: deadline, delay: min(delay * 2, .milliseconds(50)))
        return .retryLookup(in: delay)
    }

    /// The back-off of ``signaturePending()`` has passed.
    mutating func lookupTimerFired(now: NIODeadline) -> Action {
        guard case .awaitingRecord(let chatID, let algorithm, let deadline, let delay) = state else { return .none }
        state = .lookingUp(chatID: chatID, algorithm: algorithm, deadline: deadline, delay: delay)
        return .lookUpSignature(chatID: chatID, algorithm: algorithm, mayWait: now < deadline)
    }

    /// The lookup's answer: the signature's JSON, or why there is none.
    mutating func signatureAnswered(_ answer: Result<ByteBuffer, OpenAIError>) -> Action {
        guard case .lookingUp = state else { return .none }
        switch answer {
        case .success(let body): return respond(status: 200, body: body)
        case .failure(let error): return respond(error)
        }
    }

    // MARK: E2EE

    /// The encrypted request's nonce was claimed (nil), or refused: spent already, or the store is full.
    mutating func replayClaimed(_ refusal: OpenAIError?) -> Action {
        guard case .claimingReplay(let outgoing) = state else { return .none }
        state = .modifying
        if let refusal { return respond(refusal, note: .rejected) }
        state = .connecting(outgoing)
        return .connectUpstream(fresh: false, model: outgoing.model)
    }

    // MARK: Upstream

    /// A connection to the upstream is ready for this request.
    /// - Parameter reused: it was idle in the pool (the server may have closed it meanwhile).
    mutating func upstreamConnected(reused: Bool) -> Action {
        // The client left while connecting: the connection is untouched and reusable.
        guard case .connecting(var outgoing) = state else { return .releaseUnusedConnection }
        // Only a proxied route has a body to forward; every other route sends none (framing is the connection's).
        let body = outgoing.body
        if outgoing.retried || !reused {
            // Nothing left to retry with: let the client connection's receive buffer be reused.
            outgoing.body = nil
        }
        state = .awaitingHead(outgoing, reused: reused)
        return .sendUpstream(upstreamHead(), body: body)
    }

    /// No connection to the upstream could be made.
    mutating func upstreamConnectFailed(_ description: String) -> Action {
        guard case .connecting = state else { return .none }
        return respond(.upstreamUnavailable, upstream: .keep, note: .upstreamUnavailable(description))
    }

    /// Nothing from the client's headers is forwarded: not its token, not X-Request-Id (which would let
    /// callers choose completion ids), no hop-by-hop headers.
    private func upstreamHead() -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(5)
        headers.add(name: "Host", value: settings.upstreamHost)
        headers.add(name: "Accept", value: "application/json")
        let method: HTTPMethod
        let path: String
        switch route {
        case .proxied(let proxied):
            (method, path) = (proxied.method, proxied.upstreamPath)
            switch proxied.body {
            case .json:
                headers.add(name: "Content-Type", value: "application/json")
            case .multipart:
                // The boundary is in the client's type; requestHead checked it is multipart.
                headers.add(name: "Content-Type", value: head.headers.first(name: "content-type") ?? "")
            case .none:
                break
            }
        case .models, .wrongMethod, .signature, .redirect, .notServed:
            (method, path) = (.GET, "/v1/models")
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: settings.upstreamBasePath + path, headers: headers)
    }

    /// The upstream answer's head.
    mutating func upstreamHead(_ response: HTTPResponseHead) -> Action {
        guard case .awaitingHead(let outgoing, _) = state else { return .none }
        // An answer has begun, so there is no retry: the request body (a slice of a receive buffer) goes.
        state = .modifying
        let status = Int(response.status.code)
        // Only a final status that may carry a body can be passed on with one: anything else (a status
        // outside 200...599, or 204/304, whose head ends the response) would desynchronise the client's
        // parser. vLLM never sends one; a broken upstream gets the 502 envelope.
        guard (200...599).contains(status), status != 204, status != 304 else {
            return respond(.upstreamUnavailable, upstream: .drop, note: .upstreamBadStatus(status))
        }
        let contentType = response.headers.first(name: "content-type")
        var collecting = Collecting(
            status: status, body: nil, contentType: nil, keepAlive: response.isKeepAlive, requestHash: outgoing.requestHash,
            e2ee: outgoing.e2ee)
        guard case .proxied(let proxied) = route else {
            state = .collecting(collecting)
            return .none
        }
        collecting.contentType = contentType
        if status != 200 {
            state = .collecting(collecting)
            return .note(.upstreamStatus)
        }
        guard contentType?.lowercased().hasPrefix("text/event-stream") == true else {
            state = .collecting(collecting)
            return .note(.json)
        }
        // HTTP/1.0 has no chunked encoding: its stream ends when the connection does.
        let close = closeAfterResponse || (head.version.major == 1 && head.version.minor == 0)
        var headers = Self.streamHeaders(close: close)
        for header in Self.e2eeAnswerHeaders(outgoing.e2ee, proxied) { headers.add(name: header.name, value: header.value) }
        state = .streaming(
            Streaming(
                stream: StreamingExchange(grammar: proxied.streamGrammar),
                pendingHead: HTTPResponseHead(version: head.version, status: .ok, headers: headers),
                keepAlive: response.isKeepAlive, requestHash: outgoing.requestHash, close: close,
                sealer: outgoing.e2ee?.streamSealer()))
        return .note(.streaming)
    }

    /// A part of the upstream answer's body.
    mutating func upstreamBody(_ buffer: ByteBuffer) -> Action {
        switch state {
        case .streaming(var streaming):
            state = .modifying
            var relayed = buffer
            if streaming.sealer != nil {
                // Sealed before it is hashed: the signature covers the bytes the client gets.
                do {
                    let sealed = try buffer.withUnsafeReadableBytes { bytes in
                        Result { () throws(E2EEError) in try streaming.sealer!.consume(bytes) }
                    }.get()
                    // The sealer holds an unfinished line; one longer than a whole buffered answer may be is refused.
                    if streaming.sealer!.heldCount > settings.maxUpstreamResponseSize { return unsealable(streaming) }
                    guard !sealed.isEmpty else {
                        state = .streaming(streaming)
                        return .none
                    }
                    relayed = ByteBuffer(bytes: sealed)
                } catch {
                    return unsealable(streaming)
                }
            }
            guard case .forward(let forwarded) = streaming.stream.consume(relayed) else {
                state = .streaming(streaming)
                return .none
            }
            let pendingHead = streaming.pendingHead
            streaming.pendingHead = nil
            state = .streaming(streaming)
            return .forward(head: pendingHead, body: forwarded)
        case .collecting(var collecting):
            state = .modifying
            Self.append(buffer, to: &collecting.body)
            if let body = collecting.body, body.readableBytes > settings.maxUpstreamResponseSize {
                return respond(.upstreamUnavailable, upstream: .drop, note: .upstreamOverLimit)
            }
            state = .collecting(collecting)
            return .none
        default:
            return .none
        }
    }

    /// The upstream has nothing more to read for now: a stream's relayed bytes go out together.
    func upstreamReadComplete() -> Action {
        if case .streaming = state { return .flush }
        return .none
    }

    /// The upstream answer ended.
    mutating func upstreamEnd() -> Action {
        switch state {
        case .streaming(var streaming):
            state = .modifying
            var rest: ByteBuffer?
            if streaming.sealer != nil {
                // A last line without its newline: sealed like any other (or refused if it cannot be).
                do {
                    let sealed = try streaming.sealer!.finish()
                    if !sealed.isEmpty, case .forward(let forwarded) = streaming.stream.consume(ByteBuffer(bytes: sealed)) {
                        rest = forwarded
                    }
                } catch {
                    return unsealable(streaming)
                }
            }
            return finishStream(&streaming, rest: rest)
        case .collecting(let collecting):
            state = .modifying
            return finishCollected(collecting)
        default:
            return .none
        }
    }

    /// The upstream connection closed (with `description` of the error, if any).
    mutating func upstreamClosed(_ description: String?) -> Action {
        switch state {
        case .awaitingHead(var outgoing, reused: true) where !outgoing.retried:
            // A kept-alive connection closed under the request before any answer: the server most
            // likely closed it as idle and never saw the request. Send once more, on a new connection.
            outgoing.retried = true
            state = .connecting(outgoing)
            return .connectUpstream(fresh: true, model: outgoing.model)
        case .streaming(let streaming) where streaming.pendingHead == nil:
            state = .done
            return .abandon(upstream: .drop, note: .cutMidStream(description ?? "connection closed"))
        case .connecting, .awaitingHead, .collecting, .streaming:
            // Nothing of the answer reached the client yet: it gets the 502 envelope.
            return respond(.upstreamUnavailable, upstream: .drop, note: .upstreamUnavailable(description ?? "connection closed"))
        case .readingRequest, .claimingReplay, .lookingUp, .awaitingRecord, .done, .modifying:
            return .none
        }
    }

    /// The upstream was silent for longer than its idle limit.
    mutating func upstreamTimedOut() -> Action {
        switch state {
        case .streaming(let streaming) where streaming.pendingHead == nil:
            state = .done
            return .abandon(upstream: .drop, note: .silentMidStream)
        case .awaitingHead, .collecting, .streaming:
            return respond(.upstreamTimeout, upstream: .drop, note: .upstreamTimeout)
        case .readingRequest, .claimingReplay, .connecting, .lookingUp, .awaitingRecord, .done, .modifying:
            return .none
        }
    }

    // MARK: Client

    /// The client's socket can (or cannot) take more bytes: a stream's upstream reads follow it.
    func clientWritabilityChanged(_ writable: Bool) -> Action {
        guard case .streaming = state else { return .none }
        return writable ? .resumeUpstreamReads : .pauseUpstreamReads
    }

    /// The client closed its connection before the answer ended: the upstream request stops, so vLLM
    /// stops generating, and nothing is recorded.
    mutating func clientClosed() -> Action {
        switch state {
        case .done:
            return .none
        case .readingRequest, .claimingReplay, .lookingUp, .awaitingRecord:
            state = .done
            return .abandon(upstream: .drop, note: nil)
        case .connecting, .awaitingHead, .collecting, .streaming, .modifying:
            state = .done
            return .abandon(upstream: .drop, note: .clientLeft)
        }
    }

    // MARK: Answers

    private static func streamHeaders(close: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "X-Accel-Buffering", value: "no")
        if close { headers.add(name: "Connection", value: "close") }
        return headers
    }

    /// An answer that cannot be encrypted is never sent in the clear: a 502 if nothing was written yet,
    /// otherwise the stream is cut, unsigned.
    private mutating func unsealable(_ streaming: Streaming) -> Action {
        if streaming.pendingHead != nil {
            return respond(.e2eeAnswerUnsealable, upstream: .drop, note: .unsealable)
        }
        state = .done
        return .abandon(upstream: .drop, note: .unsealable)
    }

    /// - Parameter rest: relayed bytes that came with the upstream's end (a sealed last line).
    private mutating func finishStream(_ streaming: inout Streaming, rest: ByteBuffer? = nil) -> Action {
        state = .done
        let receipt: Receipt
        if case .proxied(let proxied) = route, !proxied.isSigned {
            // An unsigned route's stream is relayed as it is.
            receipt = .none
        } else if streaming.stream.endedCleanly, let chatID = streaming.stream.chatID {
            receipt = .sign(
                chatID: chatID, requestHash: streaming.requestHash, responseHash: streaming.stream.responseHash, inline: receiptRequested)
        } else if streaming.stream.failed {
            receipt = .unsigned(.errorEvent)
        } else if streaming.stream.sawDone {
            receipt = .unsigned(.noID)
        } else {
            receipt = .unsigned(.cut)
        }
        var held = streaming.stream.takeHeld()
        if let rest { held.insert(rest, at: 0) }
        return .finishStream(
            head: streaming.pendingHead, held: held, receipt: receipt,
            upstream: .release(reusable: streaming.keepAlive), close: streaming.close)
    }

    private mutating func finishCollected(_ collecting: Collecting) -> Action {
        var body = collecting.body ?? ByteBuffer()
        var headers: [(name: String, value: String)] = []
        if collecting.status == 200, let exchange = collecting.e2ee {
            // Sealed before it is hashed and sent; never sent in the clear (docs/E2EE.md).
            do {
                body = ByteBuffer(bytes: try exchange.sealResponse(Array(body.readableBytesView)))
            } catch {
                return respond(.e2eeAnswerUnsealable, upstream: .release(reusable: collecting.keepAlive), note: .unsealable)
            }
            headers = exchange.responseHeaders
        } else if collecting.status == 200, case .proxied(let proxied) = route {
            headers = Self.e2eeAnswerHeaders(nil, proxied)
        }
        let status = collecting.status
        let upstream = UpstreamDisposal.release(reusable: collecting.keepAlive)
        switch route {
        case .models:
            guard JSONCheck.isJSON(body) else {
                // A 200 that is not JSON is a broken upstream; an error page keeps its status in the envelope.
                return respond(status == 200 ? .upstreamUnavailable : .upstreamStatus(status), upstream: upstream)
            }
            return respond(status: status, body: body, upstream: upstream)
        case .proxied where status != 200:
            // Non-200 answers keep their status and JSON body; nothing is signed (docs/API.md, Completions).
            // Under E2EE only the status: the body is plaintext, and may quote the decrypted request.
            if collecting.e2ee != nil { return respond(.e2eeUpstreamStatus(status), upstream: upstream) }
            guard JSONCheck.isJSON(body) else { return respond(.upstreamStatus(status), upstream: upstream) }
            return respond(status: status, body: body, upstream: upstream)
        case .proxied(let proxied):
            // One pass validates the answer and finds its id.
            let scan = body.withUnsafeReadableBytes { JSONValidator.scan($0, path: TopLevelIDExtractor.idPath) }
            guard let scan, scan.topLevel == .object || (!proxied.isSigned && scan.topLevel != .scalar) else {
                if proxied.relaysOtherBodies {
                    return respond(
                        status: 200, body: body, contentType: collecting.contentType ?? "application/octet-stream", upstream: upstream)
                }
                return respond(.upstreamUnavailable, upstream: upstream, note: .upstreamNotJSON)
            }
            guard proxied.isSigned else { return respond(status: 200, body: body, headers: headers, upstream: upstream) }
            // Signed before the response is written, visible once it is, so an eager client never gets a 404.
            let receipt: Receipt
            if let chatID = body.withUnsafeReadableBytes({ TopLevelIDExtractor.usableString(scan.member, in: $0) }) {
                receipt = .sign(
                    chatID: chatID, requestHash: collecting.requestHash, responseHash: StreamDigest.hex(of: body),
                    inline: receiptRequested || settings.receiptHeadersByDefault)
            } else {
                receipt = .unsigned(.noID)
            }
            return respond(status: 200, body: body, headers: headers, receipt: receipt, upstream: upstream)
        case .wrongMethod, .signature, .redirect, .notServed:
            return respond(.methodNotAllowed, upstream: upstream)
        }
    }

    /// The E2EE headers of a 200 answer: the dialect's, or on a chat completion in the clear the Python proxy's
    /// `X-E2EE-Applied: false` (docs/API.md, "E2EE: encrypted fields").
    private static func e2eeAnswerHeaders(_ exchange: E2EEExchange?, _ proxied: ProxyRoute) -> [(name: String, value: String)] {
        if let exchange { return exchange.responseHeaders }
        return proxied.e2eeEndpoint == .chatCompletions ? [("X-E2EE-Applied", "false")] : []
    }

    private mutating func refuse(_ error: OpenAIError) -> Action {
        state = .done
        return .refuse(error)
    }

    private mutating func respond(_ error: OpenAIError, upstream: UpstreamDisposal = .keep, note: Note? = nil) -> Action {
        respond(
            status: Int(error.status.code), body: error.envelope(envelope), retryAfter: error.retryAfter, upstream: upstream,
            note: note)
    }

    /// A whole answer with its length (JSON unless `contentType` says otherwise); ends the exchange.
    private mutating func respond(
        status: Int, body: ByteBuffer, contentType: String? = nil, location: String? = nil, retryAfter: Int? = nil,
        headers: [(name: String, value: String)] = [], receipt: Receipt = .none, upstream: UpstreamDisposal = .keep,
        note: Note? = nil
    ) -> Action {
        state = .done
        var responseHead = Self.jsonHead(
            version: head.version, status: .init(statusCode: status), length: body.readableBytes, close: closeAfterResponse)
        if let contentType { responseHead.headers.replaceOrAdd(name: "Content-Type", value: contentType) }
        if let location { responseHead.headers.add(name: "Location", value: location) }
        if let retryAfter { responseHead.headers.add(name: "Retry-After", value: String(retryAfter)) }
        for header in headers { responseHead.headers.add(name: header.name, value: header.value) }
        // A HEAD answer carries the headers only.
        let response = Response(head: responseHead, body: head.method == .HEAD ? nil : body, close: closeAfterResponse, receipt: receipt)
        return .respond(response, upstream: upstream, note: note)
    }

    /// The head of a whole JSON answer: its type, its length, and `Connection: close` when the
    /// connection ends after it.
    static func jsonHead(version: HTTPVersion, status: HTTPResponseStatus, length: Int, close: Bool) -> HTTPResponseHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(3)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(length))
        if close { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: version, status: status, headers: headers)
    }

    /// Adds a received piece to a body being gathered. Usually the whole body arrives in one buffer,
    /// which is kept as it is, with no copy.
    private static func append(_ buffer: ByteBuffer, to body: inout ByteBuffer?) {
        if body == nil {
            body = buffer
        } else {
            var incoming = buffer
            body!.writeBuffer(&incoming)
        }
    }
}
