import Foundation
import NIOCore

/// `GET /v1/models` when `VLLM_MODEL_BACKENDS` routes models to pools of their own: one backend of
/// every pool is asked, and the answer is the union of their lists in vLLM's shape, each model once
/// (docs/API.md, "Several backends"). With one pool the list is relayed from it unchanged instead.
enum ModelsUnion {
    /// The merged list; fails only when no pool answered a list.
    static func fetch(pools: UpstreamPools, on eventLoop: any EventLoop, idleLimit: TimeAmount, limit: Int) -> EventLoopFuture<ByteBuffer> {
        let answers = pools.routing.distinctGroups.map { group in
            UpstreamFetch.get("/v1/models", pools: pools, group: group, on: eventLoop, idleLimit: idleLimit, limit: limit)
        }
        return EventLoopFuture.whenAllComplete(answers, on: eventLoop).flatMapThrowing { results in
            var lists: [ByteBuffer] = []
            var failure: (any Error)?
            for result in results {
                switch result {
                case .success(let answer) where answer.status == 200: lists.append(answer.body)
                case .success(let answer): failure = failure ?? UnionError.status(answer.status)
                case .failure(let error): failure = failure ?? error
                }
            }
            guard let merged = merge(lists) else {
                throw failure ?? UnionError.noList
            }
            return merged
        }
    }

    /// `{"object":"list","data":[…]}` with every list's models in order, the first of each `id` kept;
    /// nil when no body is such a list. Each model object is re-encoded (keys sorted), not copied.
    static func merge(_ bodies: [ByteBuffer]) -> ByteBuffer? {
        var seen: Set<String> = []
        var models: [Any] = []
        var anyList = false
        for body in bodies {
            guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
                let data = object["data"] as? [Any]
            else { continue }
            anyList = true
            for case let model as [String: Any] in data {
                guard let id = model["id"] as? String, seen.insert(id).inserted else { continue }
                models.append(model)
            }
        }
        guard anyList else { return nil }
        var out = ByteBuffer(string: #"{"object":"list","data":["#)
        var first = true
        for model in models {
            guard let bytes = try? JSONSerialization.data(withJSONObject: model, options: [.sortedKeys, .withoutEscapingSlashes])
            else { continue }
            if !first { out.writeString(",") }
            first = false
            out.writeBytes(bytes)
        }
        out.writeString("]}")
        return out
    }

    /// Why no merged list could be made.
    struct UnionError: Error, CustomStringConvertible {
        private enum Code { case status(Int), noList }
        private let code: Code

        static func status(_ status: Int) -> UnionError { UnionError(code: .status(status)) }
        static let noList = UnionError(code: .noList)

        var description: String {
            switch code {
            case .status(let status): "a pool answered /v1/models with \(status)"
            case .noList: "no pool answered /v1/models with a list"
            }
        }
    }
}
