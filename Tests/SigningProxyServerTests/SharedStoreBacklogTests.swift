import NIOCore
import Testing

@testable import SigningProxyServer

/// The records kept for Redis while it does not answer (docs/API.md, "Shared receipt store", Failures).
@Suite("Shared store backlog")
struct SharedStoreBacklogTests {
    static let now = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func entry(_ index: Int) -> SharedStoreBacklog.Entry {
        SharedStoreBacklog.Entry(key: "k\(index)", value: ByteBuffer(string: "v\(index)"), expiresAt: .uptimeNanoseconds(UInt64(index)))
    }

    @Test("bounded: past capacity the oldest entry goes, and each drop is reported")
    func bounded() {
        let backlog = SharedStoreBacklog(capacity: 3)
        #expect(backlog.isEmpty)
        for index in 0..<3 { #expect(!backlog.add(Self.entry(index))) }
        #expect(backlog.add(Self.entry(3)))
        #expect(!backlog.isEmpty)
        #expect(backlog.beginDrain(now: Self.now))
        #expect(backlog.take(10).map(\.key) == ["k1", "k2", "k3"])
        #expect(backlog.isEmpty)
    }

    @Test("one drain at a time, oldest first in batches; nothing left ends it")
    func oneDrain() {
        let backlog = SharedStoreBacklog(capacity: 10)
        #expect(!backlog.beginDrain(now: Self.now))  // nothing to write
        for index in 0..<5 { _ = backlog.add(Self.entry(index)) }
        #expect(backlog.beginDrain(now: Self.now))
        #expect(!backlog.beginDrain(now: Self.now))
        #expect(backlog.take(2).map(\.key) == ["k0", "k1"])
        // Added during the drain: written by the same drain.
        _ = backlog.add(Self.entry(5))
        #expect(backlog.take(10).map(\.key) == ["k2", "k3", "k4", "k5"])
        #expect(!backlog.beginDrain(now: Self.now))
        #expect(backlog.take(10).isEmpty)  // ends the drain
        _ = backlog.add(Self.entry(6))
        #expect(backlog.beginDrain(now: Self.now))
    }

    @Test("unwritten entries go back in front, in order, and end the drain until the pause is over; overflow drops the oldest")
    func putBack() {
        let backlog = SharedStoreBacklog(capacity: 4)
        for index in 0..<4 { _ = backlog.add(Self.entry(index)) }
        #expect(backlog.beginDrain(now: Self.now))
        let batch = backlog.take(3)
        _ = backlog.add(Self.entry(4))
        _ = backlog.add(Self.entry(5))
        // k0…k2 back in front of k3…k5: six entries, room for four.
        #expect(backlog.putBack(batch, retryAt: Self.now + .seconds(1)) == 2)
        // A drain that failed: the next waits for its pause, whatever answers meanwhile.
        #expect(!backlog.beginDrain(now: Self.now + .milliseconds(999)))
        #expect(backlog.beginDrain(now: Self.now + .seconds(1)))
        #expect(backlog.take(10).map(\.key) == ["k2", "k3", "k4", "k5"])
    }
}
