import Logging
import SigningCore

@testable import SigningProxyServer

/// `fast-path`: one client connection through `FastPathRouter` and `ProxyExchange`, with client bytes
/// and upstream bytes both coming from the input (see ``FastPathSession``).
///
/// Input: a script of up to 64 steps. Each step is one byte, its value modulo 8 choosing:
/// - 0, 1, 2: the client sends bytes (2-byte little-endian length, then that many bytes);
/// - 3, 4: an upstream connection sends bytes (1 byte picks the connection among those opened, modulo
///   their number; then a length and bytes as above);
/// - 5: one byte: the client half-closes (0), closes (1), toggles its writability (2) or resets the
///   connection (3), modulo 4;
/// - 6: an upstream connection (1 byte, as above) closes, or fails when a second byte is odd;
/// - 7: the clock moves on by as many seconds as the next byte says (580 s at most in all).
/// At the end a second passes, then everything still open is closed cleanly.
///
/// Checks (``FastPathChecks``, ``ClientExchangeRecorder``, ``UpstreamExchangeRecorder``): the bytes each
/// upstream connection was sent read, for a server, as exactly the requests the proxy meant, framed by
/// an exact Content-Length, with no body on a GET and no client credentials; at most one upstream
/// request per client request (one retry after a silent close aside), never a second one on a
/// connection before the first is answered; request bodies forwarded byte for byte; a connection that
/// sends an answer nobody asked for is closed; a 200 carries the bytes of an upstream answer that was
/// asked for; responses pair with requests in order, each with a final status in 200...599, and a 204,
/// a 304 or an answer to HEAD carries no body; a signature is stored only for a clean (`[DONE]` or a
/// JSON object with an id), delivered response, with its hashes, and never when the client reset the
/// connection right after the response's last byte; every such response whose id was free and that no
/// reset followed is signed; no record is left waiting for its delivery decision; and when it is all
/// over, no router, exchange or upstream connection object is left alive.
enum FastPathTarget {
    static let target = FuzzTarget(
        name: "fast-path",
        summary: "FastPathRouter + ProxyExchange on EmbeddedChannel: framing, one request each, exact bytes, signed iff delivered, no leaks"
    ) { run($0) }

    static let maxSteps = 64

    /// Small limits, so inputs can cross them.
    static let configuration: ProxyConfiguration = {
        var configuration = ProxyConfiguration()
        configuration.upstream = "http://127.0.0.1:9"
        configuration.modelName = "tiny"
        configuration.tokens = ["fuzz-token"]
        configuration.dev = true
        // Lazy: records are prepared and published as in eager mode, without signing each one.
        configuration.signingMode = .lazy
        configuration.signatureCacheCapacity = 64
        configuration.maxRequestSize = 4096
        configuration.maxUpstreamResponseSize = 16384
        return configuration
    }()

    static let signer = ExchangeSigner(
        keys: SigningKeys.dev(seed: "fuzz"), format: configuration.signingTextFormat, modelName: configuration.modelName)

    /// The proxy logs every upstream fault; printing that for each input would dominate the run.
    static let logger = Logger(label: "fuzz.fast-path", factory: { _ in SwiftLogNoOpLogHandler() })

    static func run(_ input: UnsafeRawBufferPointer) {
        let live = play(input)
        Invariant.require(live.routers.load(ordering: .relaxed) == 0, "a FastPathRouter outlived its connection")
        Invariant.require(live.exchanges.load(ordering: .relaxed) == 0, "a ProxyExchange outlived its connection")
        Invariant.require(live.upstreamConnections.load(ordering: .relaxed) == 0, "an UpstreamConnection outlived its channel")
    }

    /// Runs the script and the checks; returns the session's live-object counters once the session
    /// itself is gone.
    private static func play(_ input: UnsafeRawBufferPointer) -> LiveInstances {
        let session: FastPathSession
        do {
            session = try FastPathSession(configuration: configuration, signer: signer, logger: logger)
        } catch {
            Invariant.fail("the session could not be set up: \(error)")
        }
        var script = FuzzInput(input)
        var steps = 0
        while !script.isAtEnd && steps < maxSteps {
            steps += 1
            session.beginStep()
            switch script.byte() % 8 {
            case 0, 1, 2:
                session.clientSends(script.take(Int(script.uint16())))
            case 3, 4:
                let index = Int(script.byte())
                session.upstreamSends(script.take(Int(script.uint16())), to: index)
            case 5:
                switch script.byte() % 4 {
                case 0: session.clientHalfCloses()
                case 1: session.clientCloses()
                case 2: session.clientWritabilityToggles()
                default: session.clientResets()
                }
            case 6:
                let index = Int(script.byte())
                session.upstreamCloses(index, withError: script.byte() & 1 == 1)
            default:
                session.advance(seconds: Int(script.byte()))
            }
        }
        session.tearDown()
        FastPathChecks.check(session)
        return session.live
    }
}
