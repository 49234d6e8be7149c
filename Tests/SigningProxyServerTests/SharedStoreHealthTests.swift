import NIOCore
import Testing

@testable import SigningProxyServer

/// The shared store's circuit breaker as a value, on a clock the test moves (docs/API.md, "Shared receipt store",
/// Failures).
@Suite("Shared store circuit breaker")
struct SharedStoreHealthTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    @Test("three failures in a row go down once; a success in between resets the count")
    func opens() {
        let health = SharedStoreHealth()
        #expect(health.failed(now: Self.start) == nil)
        #expect(health.failed(now: Self.start) == nil)
        health.succeeded()
        #expect(health.failed(now: Self.start) == nil)
        #expect(health.failed(now: Self.start) == nil)
        #expect(health.failed(now: Self.start) == .wentDown)
        // Reported once: later failures change nothing.
        #expect(health.failed(now: Self.start) == nil)
        #expect(!health.isUp)
    }

    @Test("down: everything skips until the back-off ends, then one probe; a failed probe doubles the back-off up to 30 s")
    func probes() {
        let health = SharedStoreHealth()
        for _ in 0..<3 { _ = health.failed(now: Self.start) }
        #expect(health.permission(now: Self.start + .milliseconds(999)) == .skip)
        #expect(health.permission(now: Self.start + .seconds(1)) == .probe)
        // While the probe runs, nobody else probes.
        #expect(health.permission(now: Self.start + .seconds(5)) == .skip)
        var now = Self.start + .seconds(1)
        var expected = TimeAmount.seconds(2)
        for _ in 0..<8 {
            #expect(health.probed(false, now: now) == nil)
            #expect(health.permission(now: now + expected - .milliseconds(1)) == .skip)
            #expect(health.permission(now: now + expected) == .probe)
            now = now + expected
            expected = min(expected * 2, .seconds(30))
        }
        #expect(health.probed(true, now: now) == .cameBack)
        #expect(health.isUp)
        #expect(health.permission(now: now) == .use)
        // Down again after 30 s up: a fresh outage, the back-off starts over at 1 s.
        now = now + .seconds(30)
        for _ in 0..<3 { _ = health.failed(now: now) }
        #expect(health.permission(now: now + .seconds(1)) == .probe)
    }

    @Test("only the probe brings the store back; down again soon after coming back, the back-off goes on doubling")
    func flapping() {
        let health = SharedStoreHealth()
        var now = Self.start
        for _ in 0..<3 { _ = health.failed(now: now) }
        // A late answer to a command sent before the store went down changes nothing.
        health.succeeded()
        #expect(!health.isUp)
        #expect(health.permission(now: now + .milliseconds(999)) == .skip)
        // A Redis that answers the probe and fails the next writes: 1 s, then 2, 4, 8 … up to 30 s between tries.
        var expected = TimeAmount.seconds(1)
        for _ in 0..<7 {
            now = now + expected
            #expect(health.permission(now: now) == .probe)
            #expect(health.probed(true, now: now) == .cameBack)
            #expect(health.failed(now: now) == nil)
            #expect(health.failed(now: now) == nil)
            #expect(health.failed(now: now) == .wentDown)
            expected = min(expected * 2, .seconds(30))
            #expect(health.permission(now: now + expected - .milliseconds(1)) == .skip)
        }
        #expect(expected == .seconds(30))
    }
}
