import NIOCore
import NIOPosix
import Synchronization

/// Runs blocking work one item at a time on a dedicated thread, each caller waiting at most a time limit.
///
/// NVML calls block for seconds and keep process-global state, so they must neither run on the
/// Swift concurrency pool nor overlap. A single-thread `NIOThreadPool` gives both properties; the limit is
/// enforced with an event-loop timer because a blocked C call cannot be interrupted: on timeout the caller
/// gets an error at once, and the stuck item keeps the thread (later items queue behind it and time out
/// too, which is the honest answer while the driver hangs).
final class SerialBlockingExecutor: Sendable {
    /// Why a submitted item produced no result.
    enum Failure: Error, Equatable {
        case timedOut
        case shutDown
    }

    private let pool: NIOThreadPool
    private let timerLoop: any EventLoop

    /// Starts the worker thread; it lives as long as the executor.
    init(timerLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.pool = NIOThreadPool(numberOfThreads: 1)
        self.pool.start()
        self.timerLoop = timerLoop
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }

    /// Runs `body` on the worker thread after every earlier item, waiting at most `limit` (queueing included).
    ///
    /// - Throws: `Failure.timedOut`, `Failure.shutDown`, `CancellationError`, or what `body` throws.
    func run<T: Sendable>(limit: Duration, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let waiter = OneShotWaiter<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                waiter.install(continuation)
                let timer = timerLoop.scheduleTask(in: TimeAmount(limit)) {
                    waiter.resume(with: .failure(Failure.timedOut))
                }
                pool.submit { state in
                    guard case .active = state else {
                        timer.cancel()
                        waiter.resume(with: .failure(Failure.shutDown))
                        return
                    }
                    // A waiter that already gave up (timeout, cancellation) still lets the item run: NVML
                    // state must stay balanced (init/shutdown pairs), and the cost is one bounded collection.
                    let result = Result { try body() }
                    timer.cancel()
                    waiter.resume(with: result)
                }
            }
        } onCancel: {
            waiter.resume(with: .failure(CancellationError()))
        }
    }
}

/// A continuation resumed exactly once, by whichever of result, timer or cancellation comes first.
private final class OneShotWaiter<T: Sendable>: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<T, any Error>)
        // Resumed before the continuation was installed (cancelled up front).
        case early(Result<T, any Error>)
        case done
    }

    private let state = Mutex<State>(.idle)

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            switch state {
            case .idle:
                state = .waiting(continuation)
                return nil
            case .early(let result):
                state = .done
                return result
            case .waiting, .done:
                return nil
            }
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(with result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            switch state {
            case .idle:
                state = .early(result)
                return nil
            case .waiting(let continuation):
                state = .done
                return continuation
            case .early, .done:
                return nil
            }
        }
        continuation?.resume(with: result)
    }
}
