import Foundation
import HarnessSupport
import Synchronization

/// Finding 2: every accepted connection leaks. RSS of a fresh proxy before, after 10 000 and after
/// 50 000 connect/close cycles, for plain connects, one `/health` request and one `/v1/models` request.
struct ConnectionLeakResult: Codable {
    struct Step: Codable {
        var cycles = 0
        var rssBytes = 0
        var overStartBytes = 0
        var seconds = 0.0
    }

    var kind: String
    var startBytes = 0
    var steps: [Step] = []
    var failedCycles = 0
    var bytesPerCycle = 0.0
    var toleranceBytes = 5 << 20
    var pass = false
}

enum ConnectionLeakReproducer {
    enum Kind: String, CaseIterable {
        case plain, health, models
    }

    /// Cycles on `threads` threads up to each of `checkpoints`, settling `settle` before each RSS reading.
    static func run(
        kind: Kind, proxyPort: Int, pid: Int32, checkpoints: [Int], threads: Int = 4, settle: Duration = .seconds(3)
    ) -> ConnectionLeakResult {
        var result = ConnectionLeakResult(kind: kind.rawValue)
        Thread.sleep(forTimeInterval: settle.seconds)
        result.startBytes = ProcessProbe.residentBytes(pid) ?? 0
        let failed = Atomic<Int>(0)
        var done = 0
        let request: [UInt8]? =
            switch kind {
            case .plain: nil
            case .health: RawRequest.get("/health", token: nil)
            case .models: RawRequest.get("/v1/models", token: nil)
            }
        for target in checkpoints {
            let start = ContinuousClock.now
            let count = target - done
            onThreads(threads) { thread in
                let share = count / threads + (thread < count % threads ? 1 : 0)
                for _ in 0..<share {
                    guard let socket = try? RawSocket(port: proxyPort) else {
                        failed.add(1, ordering: .relaxed)
                        continue
                    }
                    if let request {
                        let conversation = Conversation.exchange(socket, request: request, policy: ReadPolicy(overall: .seconds(5)))
                        if conversation.responses.first?.status != 200 { failed.add(1, ordering: .relaxed) }
                    }
                    socket.close()
                }
            }
            done = target
            let seconds = (ContinuousClock.now - start).seconds
            Thread.sleep(forTimeInterval: settle.seconds)
            let rss = ProcessProbe.residentBytes(pid) ?? 0
            result.steps.append(.init(cycles: target, rssBytes: rss, overStartBytes: rss - result.startBytes, seconds: seconds))
            chaosLog("  leak/\(kind.rawValue): \(target) cycles in \(String(format: "%.1f", seconds)) s, RSS \(rss >> 20) MB (+\((rss - result.startBytes) >> 10) KB)")
        }
        result.failedCycles = failed.load(ordering: .relaxed)
        if let last = result.steps.last {
            result.bytesPerCycle = Double(last.overStartBytes) / Double(max(1, last.cycles))
            result.pass = last.overStartBytes <= result.toleranceBytes && result.failedCycles == 0
        }
        return result
    }
}
