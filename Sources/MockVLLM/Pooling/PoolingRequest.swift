import NIOCore

/// A request to one of vLLM's pooling routes: embeddings, pooling, classify, score or rerank.
struct PoolingRequest: Sendable {
    /// Which route, and so which answer shape and id prefix.
    enum Kind: Sendable, Hashable {
        /// `POST /v1/embeddings`: `embd-…`
        case embeddings
        /// `POST /pooling`: `pooling-…`
        case pooling
        /// `POST /classify`: `classify-…`
        case classify
        /// `POST /score`, `/v1/score`: `score-…`
        case score
        /// `POST /rerank`, `/v1/rerank`, `/v2/rerank`: `score-…`
        case rerank
    }

    /// One text (or token list) to pool: the bytes its vector derives from, and its token count.
    struct Item: Sendable {
        var key: [UInt8]
        var tokens: Int
        /// The text, for rerank's echoed documents.
        var text: String = ""
    }

    let kind: Kind
    let model: String
    /// embeddings, pooling, classify: the inputs. score: the second texts. rerank: the documents.
    var items: [Item] = []
    /// score: the first text of each pair (one per item). rerank: the query, once.
    var queries: [Item] = []
    /// embeddings: `encoding_format` `base64`.
    var base64 = false
    /// rerank: `top_n` (nil or 0: every document).
    var topN: Int?
    var faults = RequestFaults()

    static func parse(body: ByteBuffer, kind: Kind, configuration: MockVLLMConfiguration) -> Result<Self, VLLMErrorResponse> {
        do {
            return .success(try Self.read(body: body, kind: kind, configuration: configuration))
        } catch {
            return .failure(error)
        }
    }

    private static func read(
        body: ByteBuffer,
        kind: Kind,
        configuration: MockVLLMConfiguration
    ) throws(VLLMErrorResponse) -> Self {
        let document = try RequestDocument.object(body).get()
        var request = PoolingRequest(kind: kind, model: try RequestDocument.model(document, configuration: configuration).get())
        switch kind {
        case .embeddings, .pooling, .classify:
            request.items = try Self.inputs(document["input"], field: "input")
            if kind == .embeddings, let format = try RequestDocument.string(document, "encoding_format").get() {
                guard format == "float" || format == "base64" else {
                    throw VLLMErrorResponse.invalidField("encoding_format", expected: "'float' or 'base64'")
                }
                request.base64 = format == "base64"
            }
        case .score:
            let first = try Self.texts(document["text_1"], field: "text_1")
            let second = try Self.texts(document["text_2"], field: "text_2")
            if first.count == 1 {
                request.queries = Array(repeating: first[0], count: second.count)
            } else if first.count == second.count {
                request.queries = first
            } else {
                throw VLLMErrorResponse.badRequest("text_1 and text_2 must have the same length, or text_1 a single text.")
            }
            request.items = second
        case .rerank:
            guard let query = try RequestDocument.string(document, "query").get() else {
                throw VLLMErrorResponse.missingField("query")
            }
            request.queries = [Self.item(query)]
            guard case .array(let documents)? = document["documents"] else {
                throw document["documents"] == nil
                    ? VLLMErrorResponse.missingField("documents") : .invalidField("documents", expected: "a valid list")
            }
            request.items = try documents.map { (value: JSONValue) throws(VLLMErrorResponse) -> Item in
                guard let text = value.stringValue ?? value["text"]?.stringValue else {
                    throw VLLMErrorResponse.invalidField("documents", expected: "a list of strings")
                }
                return Self.item(text)
            }
            request.topN = try RequestDocument.integer(document, "top_n").get()
        }
        request.faults = try RequestFaults.parse(configuration: configuration, field: { document[$0] }).get()
        return request
    }

    /// A string, a list of strings, a token list or a list of token lists.
    private static func inputs(_ value: JSONValue?, field: String) throws(VLLMErrorResponse) -> [Item] {
        switch value {
        case nil, .null?:
            throw .missingField(field)
        case .string(let text)?:
            return [Self.item(text)]
        case .array(let elements)? where !elements.isEmpty:
            if elements.allSatisfy({ $0.integerValue != nil }) {
                return [Self.tokens(elements)]
            }
            var items: [Item] = []
            for element in elements {
                switch element {
                case .string(let text): items.append(Self.item(text))
                case .array(let tokens) where tokens.allSatisfy({ $0.integerValue != nil }): items.append(Self.tokens(tokens))
                default: throw .invalidField(field, expected: "a valid string or list of strings or token ids")
                }
            }
            return items
        case .array?:
            throw .badRequest("Input cannot be empty.", param: field)
        default:
            throw .invalidField(field, expected: "a valid string or list of strings or token ids")
        }
    }

    /// A string or a non-empty list of strings.
    private static func texts(_ value: JSONValue?, field: String) throws(VLLMErrorResponse) -> [Item] {
        switch value {
        case nil, .null?:
            throw .missingField(field)
        case .string(let text)?:
            return [Self.item(text)]
        case .array(let elements)? where !elements.isEmpty && elements.allSatisfy({ $0.stringValue != nil }):
            return elements.compactMap(\.stringValue).map(Self.item)
        default:
            throw .invalidField(field, expected: "a valid string or list of strings")
        }
    }

    private static func item(_ text: String) -> Item {
        Item(key: Array(text.utf8), tokens: 1 + RequestDocument.textTokens(text), text: text)
    }

    private static func tokens(_ values: [JSONValue]) -> Item {
        let ids = values.compactMap(\.integerValue)
        return Item(key: Array(ids.map(String.init).joined(separator: ",").utf8), tokens: ids.count)
    }
}
