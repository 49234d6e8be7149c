import NIOCore
import NIOHTTP1
import Testing

@testable import SigningProxyServer

/// The client connection's own state, without sockets: its clock, the requests it holds while an
/// answer is in flight, and the deliveries it confirms.
@Suite("Connection state: timeouts, held requests, delivery confirmations")
struct ConnectionStateTests {
    static let limits = ConnectionClock.Limits(
        header: .seconds(10), body: .seconds(30), bodyMinRate: 1000, keepAlive: .seconds(5), linger: .seconds(2))

    static func at(_ seconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(seconds) * 1_000_000_000) }

    @Test("a fresh connection's first head is due from the moment it opened, not from its first byte")
    func freshHead() {
        var clock = ConnectionClock(limits: Self.limits, now: Self.at(100))
        #expect(clock.deadline == Self.at(110))
        do { let observed = clock.bytesArrived(now: Self.at(105)); #expect(observed) }
        clock.readComplete()
        #expect(clock.deadline == Self.at(110))
        do { let observed = clock.timerFired(now: Self.at(109)); #expect(observed == nil) }
        do { let observed = clock.timerFired(now: Self.at(110)); #expect(observed == .head) }
        // Reported once.
        do { let observed = clock.timerFired(now: Self.at(111)); #expect(observed == nil) }
    }

    @Test("between requests: keep-alive, then a head's own deadline from the end of the read that began it")
    func keepAliveThenHead() {
        var clock = ConnectionClock(limits: Self.limits, now: Self.at(0))
        clock.busy()
        #expect(clock.deadline == nil)
        #expect(!clock.awaitingRequestBytes)
        clock.becameIdle(now: Self.at(20))
        #expect(clock.awaitingRequestBytes)
        #expect(clock.deadline == Self.at(25))
        do { let observed = clock.bytesArrived(now: Self.at(22)); #expect(observed) }
        // Until the read ends, the keep-alive deadline stands; a head that arrives whole moves nothing.
        #expect(clock.deadline == Self.at(25))
        do { let observed = !clock.bytesArrived(now: Self.at(22)); #expect(observed) }
        clock.readComplete()
        #expect(clock.deadline == Self.at(32))
        do { let observed = clock.timerFired(now: Self.at(32)); #expect(observed == .head) }

        var whole = ConnectionClock(limits: Self.limits, now: Self.at(0))
        whole.becameIdle(now: Self.at(20))
        _ = whole.bytesArrived(now: Self.at(22))
        whole.busy()
        whole.readComplete()
        #expect(whole.deadline == nil)
        do { let observed = whole.timerFired(now: Self.at(1000)); #expect(observed == nil) }
    }

    @Test("an idle connection expires at its keep-alive deadline")
    func idle() {
        var clock = ConnectionClock(limits: Self.limits, now: Self.at(0))
        clock.becameIdle(now: Self.at(1))
        do { let observed = clock.timerFired(now: Self.at(5)); #expect(observed == nil) }
        do { let observed = clock.timerFired(now: Self.at(6)); #expect(observed == .idle) }
    }

    @Test("a body has its time, then each further second is paid for with the minimum rate's bytes")
    func bodyRate() {
        var clock = ConnectionClock(limits: Self.limits, now: Self.at(0))
        clock.bodyStarted(now: Self.at(10))
        #expect(clock.deadline == Self.at(40))
        clock.bodyReceived(5000)
        #expect(clock.deadline == Self.at(45))
        clock.bodyReceived(5000)
        #expect(clock.deadline == Self.at(50))
        do { let observed = clock.timerFired(now: Self.at(49)); #expect(observed == nil) }
        do { let observed = clock.timerFired(now: Self.at(50)); #expect(observed == .body) }
        // A part that arrives outside a body changes nothing.
        clock.busy()
        clock.bodyReceived(1_000_000)
        #expect(clock.deadline == nil)
    }

    @Test("closing is bounded by the keep-alive time, then by the linger once the refusal is written")
    func closing() {
        var clock = ConnectionClock(limits: Self.limits, now: Self.at(0))
        clock.closing(now: Self.at(10))
        #expect(clock.deadline == Self.at(15))
        clock.lingering(now: Self.at(11))
        #expect(clock.deadline == Self.at(13))
        do { let observed = clock.timerFired(now: Self.at(13)); #expect(observed == .closing) }
        clock.closed()
        #expect(clock.deadline == nil)
    }

    @Test("held requests keep their order; a read asked for meanwhile waits until they are served")
    func held() throws {
        var held = HeldRequests()
        do { let observed = held.readRequested(); #expect(observed) }
        held.append(.part(.body(ByteBuffer(string: "b"))))
        held.prepend(.part(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"))))
        held.append(.parseError)
        do { let observed = !held.readRequested(); #expect(observed) }
        do { let observed = !held.takeHeldBackRead(); #expect(observed) }
        #expect(held.first?.startsRequest == true)
        guard case .part(.head) = held.removeFirst() else { throw Failure("head first") }
        #expect(held.first?.startsRequest == false)
        guard case .part(.body) = held.removeFirst() else { throw Failure("body second") }
        #expect(held.first?.startsRequest == true)
        guard case .parseError = held.removeFirst() else { throw Failure("parse error last") }
        do { let observed = held.takeHeldBackRead(); #expect(observed) }
        do { let observed = !held.takeHeldBackRead(); #expect(observed) }
        // A refused connection drains its input whatever was held.
        held.append(.parseError)
        do { let observed = !held.readRequested(); #expect(observed) }
        held.removeAll()
        do { let observed = held.takeHeldBackRead(force: true); #expect(observed) }
    }

    @Test("deliveries: decided once each, in order; a half-close waits for the last one")
    func deliveries() {
        var deliveries = DeliveryConfirmations()
        do { let observed = !deliveries.holdInputClose(); #expect(observed) }
        nonisolated(unsafe) var decided: [String] = []
        let first = deliveries.add { decided.append("first \($0)") }
        let second = deliveries.add { decided.append("second \($0)") }
        _ = deliveries.add { decided.append("third \($0)") }
        #expect(deliveries.isWaiting(second))
        do { let observed = deliveries.holdInputClose(); #expect(observed) }
        deliveries.take(second)?(true)
        do { let observed = deliveries.take(second); #expect(observed == nil) }
        do { let observed = !deliveries.releaseInputClose(); #expect(observed) }
        for decide in deliveries.takeAll() { decide(false) }
        #expect(decided == ["second true", "first false", "third false"])
        #expect(!deliveries.isWaiting(first))
        #expect(deliveries.isEmpty)
        do { let observed = deliveries.releaseInputClose(); #expect(observed) }
        do { let observed = !deliveries.releaseInputClose(); #expect(observed) }
    }

    struct Failure: Error {
        var what: String
        init(_ what: String) { self.what = what }
    }
}
