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
        #expect(health.succeeded() == nil)
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
        // Down again: the back-off starts over at 1 s.
        for _ in 0..<3 { _ = health.failed(now: now) }
        #expect(health.permission(now: now + .seconds(1)) == .probe)
    }
}
