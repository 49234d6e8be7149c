import NIOCore

/// Looks at a request's connection while its response is written: is the client still there?
struct ConnectionProbe: Sendable {
    /// How often a pause re-checks the connection; bounds how late a departure is noticed.
    static let checkInterval: Duration = .milliseconds(20)

    let channel: any Channel

    /// The connection's ``ConnectionLiveness``, or nil when its pipeline has no ``ConnectionWatcher``
    /// (then only `isActive` is watched). Costs one hop to the event loop, so it is fetched once per stream.
    func liveness() async -> ConnectionLiveness? {
        let channel = self.channel
        return try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ConnectionWatcher.self).liveness
        }.get()
    }

    /// Waits until the event loop has run every task queued so far, the writes handed to the channel among
    /// them, so that the channel's writability (and with it the writer's backpressure) is up to date.
    func catchUp() async throws {
        try await self.channel.eventLoop.submit {}.get()
    }

    /// Sleeps for `duration`, checking the connection every ``checkInterval``.
    ///
    /// - Throws: ``MockVLLMError/clientGone`` as soon as the client is gone; `CancellationError` on cancellation.
    func pause(for duration: Duration, liveness: ConnectionLiveness?) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while true {
            if liveness?.isClosed == true || !self.channel.isActive {
                throw MockVLLMError.clientGone
            }
            let now = clock.now
            if now >= deadline { return }
            try await Task.sleep(until: min(deadline, now + Self.checkInterval), clock: clock)
        }
    }
}
