import Foundation
import Testing

@testable import E2EE

/// Cost of the body layer over the cipher (goal ≤ 10 µs per field): opening a chat request's fields, sealing a
/// whole answer's, sealing streamed events, each against the same fields through the dialect's cipher alone.
/// Off by default: `E2EE_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter ExchangeBenchmark`.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["E2EE_BENCH"] == "1"))
struct ExchangeBenchmarkTests {
    static let text = String(repeating: "token ", count: 40)  // 240 bytes, as E2EEBenchmarkTests
    static let fields = 8

    let fixture: ExchangeFixture

    init() throws { self.fixture = try ExchangeFixture() }

    /// The median of `rounds` rounds, in microseconds per call of `body`.
    func median(iterations: Int, rounds: Int = 7, _ body: () throws -> Void) rethrows -> Double {
        var perCall: [Double] = []
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            for _ in 0..<iterations { try body() }
            let elapsed = ContinuousClock.now - start
            perCall.append((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / Double(iterations) * 1e6)
        }
        return perCall.sorted()[rounds / 2]
    }

    func report(_ name: String, body: Double, cipher: Double, per count: Int) {
        let line = String(format: "E2EE bench %@: %.1f µs/field through the body layer, %.1f cipher alone, %.1f over", name,
                          body / Double(count), cipher / Double(count), (body - cipher) / Double(count))
        print(line)
    }

    /// (name, client, headers, request AAD for message m) for one dialect of each family.
    func dialects() throws -> [(String, E2EEClient, E2EEHeaders, (Int) -> [UInt8])] {
        let world = self.fixture.world
        let dv = try self.fixture.client(.dv(version: 2), .ecdsa)
        let near = try self.fixture.client(.near(version: 2), .ed25519)
        let aci = try self.fixture.aciClient(.x25519)
        return [
            ("DV v2 ecdsa", dv, E2EEHeaders(dv.headers), { m in
                E2EEAAD.dvRequest(algo: .ecdsa, model: "m", messageIndex: m, contentIndex: nil, nonce: world.dv_nonce, timestamp: world.timestamp)
            }),
            ("NEAR v2 ed25519", near, E2EEHeaders(near.headers), { _ in [] }),
            ("ACI x25519", aci, E2EEHeaders(aci.headers), { m in
                E2EEAAD.aciRequest(suite: .x25519, model: "m", field: "messages.\(m).content", nonce: world.aci_nonce, timestamp: world.timestamp)
            }),
        ]
    }

    @Test func bodyLayer() throws {
        for (name, client, headers, aad) in try self.dialects() {
            let exchange = try self.fixture.exchange(headers, .chatCompletions)
            let sealedFields = try (0..<Self.fields).map { try client.sealRequestField(Self.text, aad: aad($0)) }
            let request = try ExchangeFixture.bytes([
                "model": "m", "max_tokens": 100, "messages": sealedFields.map { ["role": "user", "content": $0] },
            ])
            let open = try self.median(iterations: 20) { var copy = exchange; _ = try copy.openRequest(request) }
            let openCipher = try self.median(iterations: 20) {
                for (m, field) in sealedFields.enumerated() {
                    switch exchange.context {
                    case .dv(let dv): _ = try dv.decryptRequestField(field, model: "m", messageIndex: m, contentIndex: nil)
                    case .near(let near): _ = try near.decryptField(field)
                    case .aci(let aci): _ = try aci.decryptRequestField(field, model: "m", field: "messages.\(m).content")
                    case .legacyV1: break
                    }
                }
            }
            self.report("\(name) request open (8 messages)", body: open, cipher: openCipher, per: Self.fields)

            var opened = exchange
            _ = try opened.openRequest(request)
            let choices = (0..<Self.fields).map { #"{"index":\#($0),"message":{"role":"assistant","content":"\#(Self.text)"},"logprobs":null,"finish_reason":"stop"}"# }
            let answer = Array(#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[\#(choices.joined(separator: ","))],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#.utf8)
            let seal = try self.median(iterations: 20) { _ = try opened.sealResponse(answer) }
            let sealCipher = try self.median(iterations: 20) { try self.sealFields(opened, count: Self.fields) }
            self.report("\(name) answer seal (8 choices)", body: seal, cipher: sealCipher, per: Self.fields)

            // One streamed event per token, as vLLM frames it.
            let event = Array(#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" token"},"logprobs":null,"finish_reason":null}]}\#n\#n"#.utf8)
            let events = Array(repeating: event, count: 100).flatMap { $0 }
            var check = opened.streamSealer()
            let sealedEvents = try events.withUnsafeBytes { raw throws(E2EEError) in try check.consume(raw) }
            #expect(sealedEvents.count > events.count + 100 * 100)  // every event sealed
            let stream = try self.median(iterations: 5) {
                var sealer = opened.streamSealer()
                _ = try events.withUnsafeBytes { raw throws(E2EEError) in try sealer.consume(raw) }
            }
            let streamCipher = try self.median(iterations: 5) { try self.sealFields(opened, count: 100, text: " token") }
            self.report("\(name) streamed events (100)", body: stream, cipher: streamCipher, per: 100)
        }
    }

    func sealFields(_ exchange: E2EEExchange, count: Int, text: String = Self.text) throws {
        for index in 0..<count {
            switch exchange.context {
            case .dv(let dv): _ = try dv.encryptResponseField(text, model: "m", id: "chatcmpl-1", choice: index, field: "content")
            case .near(let near): _ = try near.encryptField(text)
            case .aci(let aci): _ = try aci.encryptResponseField(text, model: "m", id: "chatcmpl-1", field: "choices.\(index).message.content")
            case .legacyV1: break
            }
        }
    }
}
