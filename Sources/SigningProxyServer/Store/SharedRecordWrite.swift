import NIOCore
import RedisClient

/// One signed record's write to the shared store, from `SET NX EX` to the client's delivery (docs/API.md, "Shared
/// receipt store", Ordering). Used on its exchange's event loop only.
///
/// The answer's last bytes wait for `released`: Redis's answer, or the end of the write wait, whichever comes
/// first. Once the delivery is known, the exchange publishes the record locally unless another replica stored the
/// id first, and calls ``delivered()``, which keeps a record that did not reach Redis for a later write; or it drops
/// the record and calls ``retract()``, which deletes the key if this write stored it or may have (its reply lost), now
/// or when a late answer says so, and only while the key still holds this record.
final class SharedRecordWrite {
    private let store: SharedReceiptStore
    /// The record's key and value: what to write later if this write does not reach Redis, or to delete if its
    /// answer is not delivered; nil for a record that may not leave the process.
    private let record: SharedStoreBacklog.Entry?
    private let eventLoop: any EventLoop
    /// Redis's answer (`.skipped` when nothing was sent); nil while in flight.
    private(set) var outcome: SharedReceiptStore.WriteOutcome?
    /// The wait ended before the answer.
    private var timedOut = false
    /// The delivery failed while the write was in flight: delete the key if the answer says it was, or may have been,
    /// stored.
    private var retractOnStore = false
    /// The answer was delivered while the write was in flight: keep it for later if the write fails.
    private var deferOnFailure = false
    private let releasePromise: EventLoopPromise<Void>

    /// Completes when the answer's last bytes may go.
    var released: EventLoopFuture<Void> { releasePromise.futureResult }

    /// - Parameters:
    ///   - record: the record's key and value (nil: nothing is sent).
    ///   - outcome: set for a write that is not sent (it is released at once).
    init(
        store: SharedReceiptStore, record: SharedStoreBacklog.Entry?, eventLoop: any EventLoop,
        outcome: SharedReceiptStore.WriteOutcome?
    ) {
        self.store = store
        self.record = record
        self.eventLoop = eventLoop
        self.outcome = outcome
        self.releasePromise = eventLoop.makePromise(of: Void.self)
        if outcome != nil { releasePromise.succeed() }
    }

    /// Races `answer` (completed on this write's loop) against `timeout`.
    func start(_ answer: EventLoopFuture<Result<Bool, RedisClientError>>, within timeout: TimeAmount) {
        let timer = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard outcome == nil else { return }
            timedOut = true
            store.writeOutwaited()
            releasePromise.succeed()
        }
        answer.assumeIsolated().whenSuccess { [self] result in
            timer.cancel()
            switch result {
            case .success(true): outcome = .stored
            case .success(false): outcome = .taken
            case .failure: outcome = .failed
            }
            store.writeAnswered(result)
            if !timedOut { releasePromise.succeed() }
            if retractOnStore, outcome == .stored || outcome == .failed, let record { store.retract(record) }
            if deferOnFailure, outcome == .failed, let record { store.keepForLater(record) }
        }
    }

    /// Another replica stored this id first: the record is not published here.
    var lostToAnotherReplica: Bool { outcome == .taken }

    /// The answer reached its client and its record is published here: a record that Redis did not get (store down,
    /// or an error) is kept to be written once Redis answers again.
    func delivered() {
        switch outcome {
        case .failed, .skipped: if let record { store.keepForLater(record) }
        case nil: deferOnFailure = true
        case .stored, .taken: break
        }
    }

    /// The answer did not reach its client in full: its record must not be served from Redis either.
    func retract() {
        switch outcome {
        // A failed write may have been stored all the same: a timeout or a lost connection after the SET was sent.
        case .stored, .failed: if let record { store.retract(record) }
        case nil: retractOnStore = true
        case .taken, .skipped: break
        }
    }
}
