import Foundation
import TestFixtures
import Testing

@testable import E2EE

/// The body vectors of `Fixtures/e2ee/vectors.json` (`bodies`), written by the independent Python reference from
/// the dialects' sources: each request body opens to what must be forwarded, and each answer (whole, and streamed
/// at every split) has exactly the expected fields sealed, each opening for the client under the AAD Python built.
@Suite struct ExchangePythonVectorTests {
    struct Body: Decodable {
        enum Step: Decodable {
            case name(String)
            case index(Int)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let index = try? container.decode(Int.self) { self = .index(index) } else { self = .name(try container.decode(String.self)) }
            }

            var value: Any {
                switch self {
                case .name(let name): name
                case .index(let index): index
                }
            }
        }

        struct Sealed: Decodable {
            let event: Int?
            let path: [Step]
            let aad: String
            let plaintext: String
        }

        struct Dropped: Decodable {
            let event: Int
            let path: [Step]
        }

        let name: String
        let dialect: String
        let algo: String
        let endpoint: String
        let headers: [String: String]
        let request: String
        let answer: String
        let sealed: [Sealed]
        let dropped: [[Step]]
        let stream: String?
        let stream_sealed: [Sealed]?
        let stream_dropped: [Dropped]?
    }

    struct File: Decodable {
        let bodies: [Body]
    }

    static let bodies: [Body] = (try? JSONDecoder().decode(File.self, from: Data(Fixtures.bytes("e2ee/vectors.json"))).bodies) ?? []

    let fixture: ExchangeFixture

    init() throws { self.fixture = try ExchangeFixture() }

    static func endpoint(_ name: String) -> E2EEEndpoint {
        switch name {
        case "chatCompletions": .chatCompletions
        case "completions": .completions
        case "embeddings": .embeddings
        case "rerank": .rerank
        case "score": .score
        default: .other
        }
    }

    func client(_ body: Body) throws -> E2EEClient {
        switch body.dialect {
        case "aci-v2": try self.fixture.aciClient(ACIKey.Suite(rawValue: body.algo)!)
        default:
            try self.fixture.client(
                body.dialect.hasPrefix("dv") ? .dv(version: Int(body.dialect.suffix(1))!) : .near(version: Int(body.dialect.suffix(1))!),
                SigningAlgo(rawValue: body.algo)!)
        }
    }

    @Test func everyBodyIsChecked() {
        #expect(Self.bodies.count >= 12)
    }

    @Test(arguments: Self.bodies.map(\.name))
    func body(name: String) async throws {
        let body = try #require(Self.bodies.first { $0.name == name })
        var exchange = try self.fixture.exchange(E2EEHeaders(body.headers.map { ($0.key, $0.value) }), Self.endpoint(body.endpoint))
        let opened = try exchange.openRequest(Array(body.request.utf8))
        let file = try JSONSerialization.jsonObject(with: Data(Fixtures.bytes("e2ee/vectors.json"))) as! [String: Any]
        let expected = (file["bodies"] as! [[String: Any]]).first { $0["name"] as? String == name }!["forwarded"]!
        try ExchangeFixture.expectSameJSON(opened, try ExchangeFixture.bytes(expected))
        try await exchange.claimReplay(store: InMemoryReplayCache(), now: self.fixture.keys.now)

        let client = try self.client(body)
        let answer = Array(body.answer.utf8)
        try ExchangeFixture.expectSealed(
            try exchange.sealResponse(answer), plain: answer, client: client,
            sealed: body.sealed.map { ($0.path.map(\.value), Array($0.aad.utf8), $0.plaintext) },
            dropped: body.dropped.map { $0.map(\.value) })

        guard let stream = body.stream else { return }
        let input = Array(stream.utf8)
        // Whole and byte by byte, checked field by field; at every single split point, the same bytes as the whole
        // run but for the sealed values (fresh randomness each time).
        func run(_ cuts: [Int]) throws -> [UInt8] {
            var sealer = exchange.streamSealer()
            var output: [UInt8] = []
            var start = 0
            for cut in cuts + [input.count] {
                output += try input[start..<cut].withUnsafeBytes { raw throws(E2EEError) in try sealer.consume(raw) }
                start = cut
            }
            return output + (try sealer.finish())
        }
        let whole = try run([])
        try self.checkStream(whole, input: input, body: body, client: client)
        try self.checkStream(try run(Array(1..<input.count)), input: input, body: body, client: client)
        let masked = Self.maskHex(whole)
        // Every split for DV (its fields reuse one key: cheap); a stride elsewhere (a key agreement per field).
        let stride = body.dialect.hasPrefix("dv") ? 1 : 23
        for cut in Swift.stride(from: 1, to: input.count, by: stride) {
            let output = try run([cut])
            #expect(Self.maskHex(output) == masked, "split at \(cut)")
        }
    }

    /// Every JSON string of 32 or more hex digits as `"H"` (the answers' plaintexts have none).
    static func maskHex(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\""), let end = bytes[(index + 1)...].firstIndex(where: { !$0.isASCIIHexDigit }),
                bytes[end] == UInt8(ascii: "\""), end - index > 32
            {
                output += Array("\"H\"".utf8)
                index = end + 1
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return output
    }

    /// Line for line: non-data lines, `[DONE]` and the error event as received; each JSON event sealed as expected.
    func checkStream(_ output: [UInt8], input: [UInt8], body: Body, client: E2EEClient) throws {
        let outLines = output.split(separator: 0x0A, omittingEmptySubsequences: false)
        let inLines = input.split(separator: 0x0A, omittingEmptySubsequences: false)
        try #require(outLines.count == inLines.count)
        var event = 0
        for (sent, received) in zip(outLines, inLines) {
            let isEvent = received.starts(with: Array("data: {\"id\"".utf8))
            guard isEvent else {
                #expect(sent == received)
                continue
            }
            #expect(sent.last == received.last)  // a CR stays where it was
            let payload = Array(sent.dropFirst(6)).filter { $0 != 0x0D }
            let plain = Array(received.dropFirst(6)).filter { $0 != 0x0D }
            try ExchangeFixture.expectSealed(
                payload, plain: plain, client: client,
                sealed: (body.stream_sealed ?? []).filter { $0.event == event }.map { ($0.path.map(\.value), Array($0.aad.utf8), $0.plaintext) },
                dropped: (body.stream_dropped ?? []).filter { $0.event == event }.map { $0.path.map(\.value) })
            event += 1
        }
    }
}
