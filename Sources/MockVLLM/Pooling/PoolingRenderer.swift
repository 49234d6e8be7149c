import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes the answers of the pooling routes exactly as vLLM 0.32 frames them (`vllm-routes/embeddings.body`,
/// `pooling.body`, `score.body`, `rerank.body`; classify, not captured, in the pooling envelope with
/// `label`, `probs` and `num_classes` per input).
struct PoolingRenderer: Sendable {
    let request: PoolingRequest
    let id: String
    let created: Int

    init(request: PoolingRequest, created: Int) {
        self.request = request
        self.created = created
        let prefix: String =
            switch request.kind {
            case .embeddings: "embd-"
            case .pooling: "pooling-"
            case .classify: "classify-"
            case .score, .rerank: "score-"
            }
        self.id = CompletionID.make(prefix: prefix)
    }

    /// Prompt tokens of the whole request.
    var promptTokens: Int {
        self.request.items.reduce(0) { $0 + $1.tokens } + self.request.queries.reduce(0) { $0 + $1.tokens }
    }

    func jsonBody() -> ByteBuffer {
        var body = Array(#"{"id":"#.utf8) + JSONText.quoted(self.id)
        if self.request.kind == .rerank {
            body += Array(#","model":"#.utf8) + JSONText.quoted(self.request.model)
            body += Array(#","usage":{"prompt_tokens":"#.utf8)
            JSONText.appendInteger(self.promptTokens, to: &body)
            body += Array(#","total_tokens":"#.utf8)
            JSONText.appendInteger(self.promptTokens, to: &body)
            body += Array(#"},"results":"#.utf8) + self.rerankResults() + Array("}".utf8)
            return ByteBuffer(bytes: body)
        }
        body += Array(#","object":"list","created":"#.utf8)
        JSONText.appendInteger(self.created, to: &body)
        body += Array(#","model":"#.utf8) + JSONText.quoted(self.request.model) + Array(#","data":["#.utf8)
        for (index, item) in self.request.items.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += Array(#"{"index":"#.utf8)
            JSONText.appendInteger(index, to: &body)
            let vector = MockEmbedding.vector(for: item.key)
            switch self.request.kind {
            case .embeddings:
                body += Array(#","object":"embedding","embedding":"#.utf8)
                if self.request.base64 {
                    body += [UInt8(ascii: "\"")] + MockEmbedding.base64(vector) + [UInt8(ascii: "\"")]
                } else {
                    body += MockEmbedding.jsonArray(vector)
                }
            case .pooling:
                body += Array(#","object":"pooling","data":"#.utf8) + MockEmbedding.jsonArray(vector)
            case .classify:
                // Two classes, softmax of the first two components: a stable, valid distribution.
                let logits = (Double(vector[0]) * 10, Double(vector[1]) * 10)
                let high = max(logits.0, logits.1)
                let weights = (exp(logits.0 - high), exp(logits.1 - high))
                let probabilities = [Float(weights.0 / (weights.0 + weights.1)), Float(weights.1 / (weights.0 + weights.1))]
                body += Array(#","label":"#.utf8)
                body += JSONText.quoted(probabilities[0] >= probabilities[1] ? "LABEL_0" : "LABEL_1")
                body += Array(#","probs":"#.utf8) + MockEmbedding.jsonArray(probabilities) + Array(#","num_classes":2"#.utf8)
            case .score:
                let score = MockEmbedding.cosine(MockEmbedding.vector(for: self.request.queries[index].key), vector)
                body += Array(#","object":"score","score":"#.utf8)
                JSONText.appendFloat(Double(score), to: &body)
            case .rerank:
                break
            }
            body += Array("}".utf8)
        }
        body += Array(#"],"usage":{"prompt_tokens":"#.utf8)
        JSONText.appendInteger(self.promptTokens, to: &body)
        body += Array(#","total_tokens":"#.utf8)
        JSONText.appendInteger(self.promptTokens, to: &body)
        body += Array(#","completion_tokens":0,"prompt_tokens_details":null,"completion_tokens_details":null}}"#.utf8)
        return ByteBuffer(bytes: body)
    }

    /// The documents by decreasing relevance to the query, the first `top_n` of them.
    private func rerankResults() -> [UInt8] {
        let query = MockEmbedding.vector(for: self.request.queries.first?.key ?? [])
        var ranked = self.request.items.enumerated().map { index, item in
            (index: index, text: item.text, score: MockEmbedding.cosine(query, MockEmbedding.vector(for: item.key)))
        }
        ranked.sort { $0.score > $1.score || ($0.score == $1.score && $0.index < $1.index) }
        if let topN = self.request.topN, topN > 0 { ranked = Array(ranked.prefix(topN)) }
        var output: [UInt8] = [UInt8(ascii: "[")]
        for (position, result) in ranked.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            output += Array(#"{"index":"#.utf8)
            JSONText.appendInteger(result.index, to: &output)
            output += Array(#","document":{"text":"#.utf8) + JSONText.quoted(result.text)
            output += Array(#","multi_modal":null},"relevance_score":"#.utf8)
            JSONText.appendFloat(Double(result.score), to: &output)
            output += Array("}".utf8)
        }
        output.append(UInt8(ascii: "]"))
        return output
    }
}
