import Crypto
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SigningCore
import SigningCrypto

@testable import SigningProxyServer

/// The fast path's invariants, checked over what a finished ``FastPathSession`` recorded.
enum FastPathChecks {
    static func check(_ session: FastPathSession) {
        let requests = session.clientRecorder.requests
        let responses = session.clientRecorder.responses
        let upstreams = session.registry.upstreams
        if verbose { describe(session) }

        checkUpstreamFraming(upstreams)
        checkOneUpstreamRequestPerClientRequest(requests, upstreams)
        checkBodiesForwardedExactly(requests, upstreams)
        checkResponsesPaired(requests, responses)
        checkBodilessResponses(requests, responses)
        checkAnswersRelayedExactly(requests, responses, upstreams)
        checkSignatures(session, requests, responses, upstreams)
    }

    /// `SIGNING_PROXY_FUZZ_VERBOSE=1` prints what each input did (for checking seeds and findings).
    private static let verbose = getenv("SIGNING_PROXY_FUZZ_VERBOSE").map { String(cString: $0) == "1" } ?? false

    private static func describe(_ session: FastPathSession) {
        let responses = session.clientRecorder.responses
        let statuses = responses.map {
            "\($0.head.status.code)\($0.delivered ? "" : " (undelivered: ended \($0.ended), pending \($0.pendingWrites), failed \($0.writeFailed))")"
        }
        let sent = session.registry.upstreams.map { "\($0.recorder.requests.count)/\($0.recorder.responses.count)" }
        let metrics = session.services.metrics
        report(
            "fast-path: \(session.clientRecorder.requests.count) requests, responses \(statuses), upstream requests/answers per connection \(sent), "
                + "\(session.services.notary.store.count) signatures stored")
        report(
            "fast-path: metrics: stored \(metrics.value(.signaturesStored)), dropped undelivered \(metrics.value(.signaturesDroppedUndelivered)), "
                + "unsigned \(metrics.value(.signaturesUnsigned)), duplicates \(metrics.value(.duplicateChatIDs)), resets at steps \(session.resets)")
        report("fast-path: the client received \(String(decoding: session.clientBytes.prefix(600), as: UTF8.self).debugDescription)")
    }

    /// To standard error, unbuffered, so that it is there even when a check then traps.
    private static func report(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// What a server reads from the bytes each upstream connection was sent is exactly the requests the
    /// proxy meant: no request hidden in another's body, none without explicit framing, no client
    /// credentials, and bodies only on completions.
    private static func checkUpstreamFraming(_ upstreams: [FastPathSession.Upstream]) {
        for (index, upstream) in upstreams.enumerated() {
            let meant = upstream.recorder.requests
            let read = serverReading(upstream.sentBytes)
            Invariant.require(
                read.count == meant.count,
                "upstream connection \(index): a server reads \(read.count) requests from bytes that carried \(meant.count)")
            for (sent, parsed) in zip(meant, read) {
                Invariant.require(parsed.head.method == sent.head.method && parsed.head.uri == sent.head.uri, "upstream request line changed on the wire")
                Invariant.require(parsed.body == sent.body, "upstream request body changed on the wire")
                let headers = sent.head.headers
                Invariant.require(!headers.contains(name: "authorization"), "the client's Authorization went upstream")
                Invariant.require(!headers.contains(name: "transfer-encoding"), "an upstream request is chunked")
                if sent.head.method == .POST {
                    Invariant.require(headers["content-length"] == [String(sent.body.count)], "an upstream POST without its exact Content-Length")
                } else {
                    Invariant.require(sent.body.isEmpty, "an upstream \(sent.head.method) carries a body")
                    Invariant.require(headers["content-length"].allSatisfy { $0 == "0" }, "an upstream \(sent.head.method) announces a body")
                }
            }
        }
    }

    /// Every upstream request stands for one client request; the only second one is the single retry
    /// on a fresh connection after a kept-alive one closed before any answer.
    private static func checkOneUpstreamRequestPerClientRequest(
        _ requests: [ClientExchangeRecorder.Request], _ upstreams: [FastPathSession.Upstream]
    ) {
        let routedUpstream = requests.filter { request in
            switch FastPathServices.route(method: request.head.method, path: request.head.uri) {
            case .proxied, .models: true
            default: false
            }
        }.count
        let sent = upstreams.map(\.recorder.requests.count).reduce(0, +)
        let retries = upstreams.filter(\.recorder.closedBeforeAnswer).count
        Invariant.require(sent <= routedUpstream + retries, "\(sent) upstream requests for \(routedUpstream) client requests and \(retries) retries")
        let answered = upstreams.map { $0.recorder.responses.filter(\.solicited).count }.reduce(0, +)
        Invariant.require(answered <= routedUpstream, "\(answered) upstream answers taken for \(routedUpstream) client requests")
    }

    /// Each upstream completion body is, byte for byte, the body of a client completion request, in order
    /// (a retry repeats the same one).
    private static func checkBodiesForwardedExactly(_ requests: [ClientExchangeRecorder.Request], _ upstreams: [FastPathSession.Upstream]) {
        let clientBodies = requests.filter { request in
            if case .proxied = FastPathServices.route(method: request.head.method, path: request.head.uri) { return request.ended }
            return false
        }.map(\.body)
        let sent = upstreams.flatMap(\.recorder.requests).filter { $0.head.method == .POST }.sorted { $0.sequence < $1.sequence }
        var position = 0
        for request in sent {
            guard let found = clientBodies[position...].firstIndex(of: request.body) else {
                Invariant.fail("an upstream completion body is not the body of a client completion request (in order)")
            }
            position = found
        }
    }

    /// Responses answer requests in order, one each; only a 400 (bytes that are not HTTP) or a 408 (a
    /// head that never completed) may come without a request head, and only last.
    private static func checkResponsesPaired(_ requests: [ClientExchangeRecorder.Request], _ responses: [ClientExchangeRecorder.Response]) {
        guard responses.count > requests.count else { return }
        Invariant.require(responses.count == requests.count + 1, "\(responses.count) responses to \(requests.count) requests")
        let extra = responses[responses.count - 1].head.status.code
        Invariant.require(extra == 400 || extra == 408, "a \(extra) response with no request")
    }

    /// A 204 or 304, and any answer to a HEAD request, has no body (RFC 9112 §6.3): a client reads
    /// bytes after such a head as the next response.
    private static func checkBodilessResponses(_ requests: [ClientExchangeRecorder.Request], _ responses: [ClientExchangeRecorder.Response]) {
        for (index, response) in responses.enumerated() where !response.body.isEmpty {
            let status = response.head.status.code
            Invariant.require(status != 204 && status != 304, "a \(status) response carries \(response.body.count) body bytes")
            if index < requests.count {
                Invariant.require(requests[index].head.method != .HEAD, "a response to HEAD carries \(response.body.count) body bytes")
            }
        }
    }

    /// A 200 to a completion or models request carries an upstream answer that was asked for: all of it
    /// when the response ended, a prefix when it was cut.
    private static func checkAnswersRelayedExactly(
        _ requests: [ClientExchangeRecorder.Request], _ responses: [ClientExchangeRecorder.Response], _ upstreams: [FastPathSession.Upstream]
    ) {
        let answers = upstreams.flatMap(\.recorder.responses).filter { $0.solicited && $0.head.status.code == 200 }
        for (request, response) in zip(requests, responses) where response.head.status.code == 200 {
            switch FastPathServices.route(method: request.head.method, path: request.head.uri) {
            case .proxied, .models: break
            default: continue
            }
            if request.head.method == .HEAD { continue }
            let matches = answers.contains { answer in
                response.ended ? (answer.ended && answer.body == response.body) : answer.body.starts(with: response.body)
            }
            Invariant.require(matches, "a 200 for \(request.head.uri) carries bytes no solicited upstream answer had")
        }
    }

    /// Signed exactly the clean exchanges whose every byte was delivered: each stored record matches a
    /// delivered 200 completion response (its hash, its id, its request) that the client did not reset
    /// or close the connection right after; each delivered clean response whose id was free, with no
    /// reset or close after it, is stored; and no record is left waiting for a decision once the
    /// connection is over.
    private static func checkSignatures(
        _ session: FastPathSession, _ requests: [ClientExchangeRecorder.Request], _ responses: [ClientExchangeRecorder.Response],
        _ upstreams: [FastPathSession.Upstream]
    ) {
        let notary = session.services.notary
        struct Delivered {
            var id: [UInt8]?
            /// The id is certain to have been seen by the exchange (before the `[DONE]` line, or JSON).
            var idCertain: Bool
            var responseHash: String
            var requestHashes: Set<String>
            /// The client reset or closed the connection in the very next step, before anything else
            /// could show that it had read the end: the proxy must not publish.
            var resetRightAfter: Bool
            /// The client reset or closed the connection at some later step: the decision may have gone
            /// either way.
            var resetLater: Bool
        }
        let resets = session.resets
        var delivered: [Delivered] = []
        for (request, response) in zip(requests, responses) where response.head.status.code == 200 && response.delivered {
            // The reference reads the chat grammar (`data:` ids, `[DONE]`), which every signed route but
            // Responses and Messages uses.
            guard case .proxied(let route) = FastPathServices.route(method: request.head.method, path: request.head.uri),
                route.isSigned, route.streamGrammar == .chat
            else { continue }
            var requestHashes: Set<String> = [Hex.encode(SHA256.hash(data: request.body))]
            for value in request.head.headers["x-request-hash"] {
                requestHashes.insert(value.trimmingWhitespace().lowercased())
            }
            let isStream = response.head.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true
            let hash = Hex.encode(SHA256.hash(data: response.body))
            let endStep = response.endWrittenAt ?? Int.max
            let resetRightAfter = resets.contains(endStep + 1)
            let resetLater = resets.contains { $0 > endStep }
            if isStream {
                let reference = SSEReference(response.body, maxLineLength: 1 << 20)
                let clean = reference.doneLineEnd != nil && !reference.sawError
                let certain = clean && (reference.chatIDLineEnd.map { $0 < reference.doneLineEnd! } ?? false)
                delivered.append(
                    Delivered(
                        id: clean ? reference.chatID : nil, idCertain: certain, responseHash: hash, requestHashes: requestHashes,
                        resetRightAfter: resetRightAfter, resetLater: resetLater))
            } else {
                let isObject = response.body.withUnsafeBytes { JSONValidator.validate($0) } == .object
                let id = isObject ? response.body.withUnsafeBytes { TopLevelIDExtractor.stringID(in: $0) }.map { Array($0.utf8) } : nil
                delivered.append(
                    Delivered(
                        id: id, idCertain: id != nil, responseHash: hash, requestHashes: requestHashes,
                        resetRightAfter: resetRightAfter, resetLater: resetLater))
            }
        }

        // Every id that could have been stored: those in any answer, in either form.
        var candidates: Set<[UInt8]> = []
        for body in upstreams.flatMap(\.recorder.responses).map(\.body) + responses.map(\.body) {
            if let id = SSEReference(body, maxLineLength: 1 << 20).chatID { candidates.insert(id) }
            if let id = body.withUnsafeBytes({ TopLevelIDExtractor.stringID(in: $0) }) { candidates.insert(Array(id.utf8)) }
        }
        var stored = 0
        for id in candidates {
            guard let record = notary.store.lookup(ChatID(bytes: id)) else { continue }
            stored += 1
            let covered = delivered.filter { response in
                response.id == id && response.responseHash == record.responseHash.hex && response.requestHashes.contains(record.requestHash.hex)
            }
            Invariant.require(!covered.isEmpty, "a signature is stored for \(String(decoding: id, as: UTF8.self).debugDescription) without a clean, delivered response it covers")
            Invariant.require(
                covered.contains { !$0.resetRightAfter },
                "a signature is stored for \(String(decoding: id, as: UTF8.self).debugDescription) although the client reset or closed the connection right after its last byte")
        }
        Invariant.require(stored == notary.store.count, "\(notary.store.count) records stored, \(stored) of them for ids any answer carried")
        for id in candidates {
            Invariant.require(!notary.isPending(String(decoding: id, as: UTF8.self)), "a record is still waiting for its delivery to be decided after the connection ended")
        }

        var claimed: Set<[UInt8]> = []
        for response in delivered {
            guard let id = response.id, response.idCertain, id.count <= ExchangeNotary.maxChatIDLength, !claimed.contains(id) else { continue }
            // Only the first answer with an id is held to this: a reset after it may be what decided
            // it, and then whether a later answer found the id free is not known.
            claimed.insert(id)
            if response.resetLater { continue }
            let record = notary.store.lookup(ChatID(bytes: id))
            Invariant.require(
                record?.responseHash.hex == response.responseHash,
                "a clean, delivered response for \(String(decoding: id, as: UTF8.self).debugDescription) was not signed")
        }
    }

    // MARK: Reading bytes as a server does

    private struct ParsedRequest {
        var head: HTTPRequestHead
        var body: [UInt8] = []
    }

    /// The requests an HTTP/1.1 server parses from `bytes` (NIO's request decoder).
    private static func serverReading(_ bytes: [UInt8]) -> [ParsedRequest] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
        var parsed: [ParsedRequest] = []
        while let part = try? channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head): parsed.append(ParsedRequest(head: head))
            case .body(let buffer): if !parsed.isEmpty { parsed[parsed.count - 1].body += Array(buffer.readableBytesView) }
            case .end: break
            }
        }
        return parsed
    }
}
