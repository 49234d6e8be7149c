import NIOCore
import NIOHTTP1
import NIOPosix

/// What a load worker sends, and for how long.
struct WorkerPlan: Sendable {
    /// The request to send as the worker's `n`th (0-based).
    var request: @Sendable (_ index: Int) -> RequestSpec
    /// No request is started after this.
    var deadline: NIODeadline
    /// Requests started before this are sent but not recorded (warm-up).
    var recordFrom: NIODeadline
    /// Most requests this worker sends.
    var maxRequests: Int
    /// Keep the `id` of this many successful JSON responses.
    var captureIDs = 0
    /// Wait before connecting, so that paced streams do not all start (and end) together.
    var startDelay: Duration = .zero
}

/// One keep-alive connection sending requests back to back (closed loop) and timing each response.
///
/// Confined to its event loop: every method runs there, which is why it may be `@unchecked Sendable`.
final class LoadWorker: @unchecked Sendable {
    let eventLoop: any EventLoop
    let target: SocketAddress
    let plan: WorkerPlan
    private let promise: EventLoopPromise<WorkerSamples>
    var samples = WorkerSamples()
    private var sent = 0
    private(set) var finished = false
    /// Reconnections after failures, bounded so a dead target cannot spin the loop.
    private var reconnects = 0
    private static let maxReconnects = 1_000

    init(eventLoop: any EventLoop, target: SocketAddress, plan: WorkerPlan) {
        self.eventLoop = eventLoop
        self.target = target
        self.plan = plan
        self.promise = eventLoop.makePromise()
    }

    /// Starts the worker; the future completes with its samples when the plan is done.
    func run() -> EventLoopFuture<WorkerSamples> {
        eventLoop.scheduleTask(in: .nanoseconds(plan.startDelay.nanoseconds)) { self.connect() }
        return promise.futureResult
    }

    private func connect() {
        ClientBootstrap(group: eventLoop)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseTimer(worker: self))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .connect(to: target)
            .whenFailure { _ in self.connectionLost() }
    }

    /// The next request to send, or nil when the plan is done.
    func nextRequest() -> (spec: RequestSpec, recorded: Bool)? {
        let now = NIODeadline.now()
        guard !finished, sent < plan.maxRequests, now < plan.deadline else { return nil }
        defer { sent += 1 }
        return (plan.request(sent), now >= plan.recordFrom)
    }

    /// A connection failed or closed early: count it, then go on with a new one while the plan allows.
    func connectionLost() {
        guard !finished else { return }
        samples.errors += 1
        reconnects += 1
        guard reconnects <= Self.maxReconnects, NIODeadline.now() < plan.deadline else {
            finish()
            return
        }
        eventLoop.scheduleTask(in: .milliseconds(5)) { self.connect() }
    }

    func finish() {
        guard !finished else { return }
        finished = true
        promise.succeed(samples)
    }
}

/// Times each response of a ``LoadWorker``'s connection and starts the next request when one ends.
///
/// SSE-aware: a body byte sequence `\n\n` (a `\r` between is ignored) completes an event; the first
/// complete event gives the time to first token, consecutive ones the inter-chunk gaps.
final class ResponseTimer: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let worker: LoadWorker
    private var inFlight = false
    private var recorded = false
    private var started: UInt64 = 0
    private var lastEvent: UInt64 = 0
    private var events = 0
    private var afterNewline = false
    private var status: UInt = 0
    private var captured: [UInt8]?

    init(worker: LoadWorker) {
        self.worker = worker
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context: context)
        context.fireChannelActive()
    }

    private func sendNext(context: ChannelHandlerContext) {
        guard let (spec, recorded) = worker.nextRequest() else {
            worker.finish()
            context.close(promise: nil)
            return
        }
        self.recorded = recorded
        events = 0
        afterNewline = false
        status = 0
        captured = recorded && worker.samples.capturedIDs.count < worker.plan.captureIDs ? [] : nil
        inFlight = true
        started = NIODeadline.now().uptimeNanoseconds
        context.write(wrapOutboundOut(.head(spec.head)), promise: nil)
        if let body = spec.body {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status.code
        case .body(let buffer):
            let now = NIODeadline.now().uptimeNanoseconds
            countEvents(in: buffer, at: now)
            if recorded { worker.samples.bodyBytes += buffer.readableBytes }
            if captured != nil { captured?.append(contentsOf: buffer.readableBytesView) }
        case .end:
            let now = NIODeadline.now().uptimeNanoseconds
            inFlight = false
            if recorded {
                if status == 200 {
                    worker.samples.completed += 1
                    worker.samples.latencies.append(Int64(now - started))
                    if let captured, let id = Self.firstID(in: captured) { worker.samples.capturedIDs.append(id) }
                } else {
                    worker.samples.badStatus += 1
                }
            }
            sendNext(context: context)
        }
    }

    private func countEvents(in buffer: ByteBuffer, at now: UInt64) {
        buffer.withUnsafeReadableBytes { bytes in
            for byte in bytes {
                if byte == UInt8(ascii: "\n") {
                    if afterNewline { completeEvent(at: now) }
                    afterNewline = true
                } else if byte != UInt8(ascii: "\r") {
                    afterNewline = false
                }
            }
        }
    }

    private func completeEvent(at now: UInt64) {
        afterNewline = false
        worker.samples.allEvents += 1
        if recorded {
            worker.samples.events += 1
            if events == 0 {
                worker.samples.firstEvent.append(Int64(now - started))
            } else {
                worker.samples.gaps.append(Int64(now - lastEvent))
            }
        }
        events += 1
        lastEvent = now
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !worker.finished { worker.connectionLost() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// The first `"id":"…"` string of a JSON body (vLLM puts the completion id first).
    static func firstID(in bytes: [UInt8]) -> String? {
        let key = Array(#""id":""#.utf8)
        guard bytes.count > key.count else { return nil }
        for start in 0...(bytes.count - key.count) where bytes[start..<(start + key.count)].elementsEqual(key) {
            let from = start + key.count
            guard let end = bytes[from...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            return String(decoding: bytes[from..<end], as: UTF8.self)
        }
        return nil
    }
}
