import Foundation
import Testing

@testable import MockVLLM

@Suite("Pooling and tokenizer routes match vLLM 0.32's captures")
struct PoolingRoutesTests {
    static let embed = MockVLLMConfiguration(model: "tiny-embed")

    static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test(
        "each answer has the capture's fields in its order and its id prefix",
        arguments: [
            ("embeddings", "/v1/embeddings", "embd-"), ("pooling", "/pooling", "pooling-"), ("score", "/score", "score-"),
            ("score", "/v1/score", "score-"), ("rerank", "/rerank", "score-"), ("rerank", "/v1/rerank", "score-"),
            ("rerank", "/v2/rerank", "score-"),
        ]
    )
    func shapes(_ vector: (fixture: String, path: String, prefix: String)) async throws {
        let fixture = try Fixtures.routeBody(vector.fixture)
        let response = try await withMockVLLM(configuration: Self.embed) { port in
            try await TestClient.post(port: port, path: vector.path, body: try Fixtures.routeRequest(vector.fixture))
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == ["application/json"])
        #expect(JSONSkeleton.of(response.body) == JSONSkeleton.of(fixture))
        let id = try #require(try Self.object(response.body)["id"] as? String)
        #expect(BodyText.isVLLMID(id, prefix: vector.prefix))
    }

    @Test("vectors: 128 floats of norm 1, the same for /pooling and /v1/embeddings; base64 is their float32 bytes")
    func vectors() async throws {
        let (floats, pooled, encoded) = try await withMockVLLM(configuration: Self.embed) { port in
            (
                try await TestClient.post(port: port, path: "/v1/embeddings", body: #"{"input":["hello","world"]}"#),
                try await TestClient.post(port: port, path: "/pooling", body: #"{"input":"hello"}"#),
                try await TestClient.post(port: port, path: "/v1/embeddings", body: #"{"input":"hello","encoding_format":"base64"}"#)
            )
        }
        let data = try #require(try Self.object(floats.body)["data"] as? [[String: Any]])
        #expect(data.count == 2)
        let hello = try #require(data[0]["embedding"] as? [Double])
        #expect(hello.count == 128)
        #expect(abs(hello.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        #expect(hello != data[1]["embedding"] as? [Double])
        let pooledData = try #require((try Self.object(pooled.body)["data"] as? [[String: Any]])?.first?["data"] as? [Double])
        #expect(pooledData == hello)
        let base64 = try #require((try Self.object(encoded.body)["data"] as? [[String: Any]])?.first?["embedding"] as? String)
        let bytes = try #require(Data(base64Encoded: base64))
        #expect(bytes.count == 128 * 4)
        let raw = Array(bytes)
        let decoded = stride(from: 0, to: raw.count, by: 4).map { (offset: Int) -> Float in
            var bits = UInt32(raw[offset])
            bits |= UInt32(raw[offset + 1]) << 8
            bits |= UInt32(raw[offset + 2]) << 16
            bits |= UInt32(raw[offset + 3]) << 24
            return Float(bitPattern: bits)
        }
        // Foundation's number parsing is not correctly rounded for doubles; as float32 the values agree.
        #expect(decoded == hello.map { Float($0) })
    }

    @Test("rerank sorts by relevance and honours top_n; score pairs one text with many; classify sums to 1")
    func rankingAndClasses() async throws {
        let (rerank, score, classify) = try await withMockVLLM(configuration: Self.embed) { port in
            (
                try await TestClient.post(port: port, path: "/rerank", body: #"{"query":"a","documents":["b","c","d"],"top_n":2}"#),
                try await TestClient.post(port: port, path: "/score", body: #"{"text_1":"a","text_2":["b","c","d"]}"#),
                try await TestClient.post(port: port, path: "/classify", body: #"{"input":["a","b"]}"#)
            )
        }
        let results = try #require(try Self.object(rerank.body)["results"] as? [[String: Any]])
        #expect(results.count == 2)
        let relevance = results.compactMap { $0["relevance_score"] as? Double }
        #expect(relevance == relevance.sorted(by: >))
        let scores = try #require(try Self.object(score.body)["data"] as? [[String: Any]])
        #expect(scores.count == 3)
        // The same pair scores the same on both routes.
        let best = try #require(results.first)
        let index = try #require(best["index"] as? Int)
        #expect(scores[index]["score"] as? Double == best["relevance_score"] as? Double)

        let classified = try Self.object(classify.body)
        #expect(BodyText.isVLLMID(try #require(classified["id"] as? String), prefix: "classify-"))
        for item in try #require(classified["data"] as? [[String: Any]]) {
            let probs = try #require(item["probs"] as? [Double])
            #expect(abs(probs.reduce(0, +) - 1) < 1e-6)
            #expect(item["num_classes"] as? Int == 2)
            #expect(["LABEL_0", "LABEL_1"].contains(item["label"] as? String))
        }
    }

    @Test("tokenize and detokenize: the captures' shapes (no id), and detokenize undoes tokenize")
    func tokenizer() async throws {
        let (tokenized, detokenized) = try await withMockVLLM { port in
            let tokenized = try await TestClient.post(port: port, path: "/tokenize", body: try Fixtures.routeRequest("tokenize"))
            let tokens = try #require(try Self.object(tokenized.body)["tokens"] as? [Int])
            let request = #"{"model":"tiny","tokens":\#(tokens)}"#.replacingOccurrences(of: " ", with: "")
            return (tokenized, try await TestClient.post(port: port, path: "/detokenize", body: request))
        }
        #expect(JSONSkeleton.of(tokenized.body) == JSONSkeleton.of(try Fixtures.routeBody("tokenize")))
        #expect(try Self.object(tokenized.body)["max_model_len"] as? Int == 512)
        #expect(detokenized.body == (try Fixtures.routeBody("detokenize")))
    }

    @Test("bad inputs: unknown model, missing or empty input, wrong encoding_format, mismatched score lists")
    func badInputs() async throws {
        let responses = try await withMockVLLM(configuration: Self.embed) { port in
            [
                try await TestClient.post(port: port, path: "/v1/embeddings", body: #"{"model":"nope","input":"x"}"#),
                try await TestClient.post(port: port, path: "/v1/embeddings", body: #"{"model":"tiny-embed"}"#),
                try await TestClient.post(port: port, path: "/v1/embeddings", body: #"{"input":[]}"#),
                try await TestClient.post(port: port, path: "/v1/embeddings", body: #"{"input":"x","encoding_format":"hex"}"#),
                try await TestClient.post(port: port, path: "/score", body: #"{"text_1":["a","b"],"text_2":["c","d","e"]}"#),
                try await TestClient.post(port: port, path: "/rerank", body: #"{"documents":["a"]}"#),
                try await TestClient.post(port: port, path: "/detokenize", body: #"{"tokens":["a"]}"#),
                try await TestClient.get(port: port, path: "/v1/embeddings"),
            ]
        }
        #expect(responses.map(\.status) == [404, 400, 400, 400, 400, 400, 400, 405])
        #expect(responses[0].bodyText.contains(#""type":"NotFoundError","param":"model","code":404"#))
    }
}
