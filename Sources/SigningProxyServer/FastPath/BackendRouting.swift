/// Every backend, and which pool serves a request: the one of its `model` when `VLLM_MODEL_BACKENDS`
/// routes it, else the default pool, where vLLM answers an unknown model with its own 404
/// (docs/API.md, "Several backends").
final class BackendRouting: Sendable {
    /// Each distinct base URL once, the primary (the default pool's first) first: a URL named in
    /// several pools is one backend, with one count of requests in flight and one health.
    let backends: [UpstreamBackend]
    let defaultGroup: BackendGroup
    private let byModel: [String: BackendGroup]
    /// One group per distinct pool, the default first: those asked for `/v1/models` when it is a union.
    let distinctGroups: [BackendGroup]

    init(layout: BackendLayout) {
        let primary = layout.defaultURLs.first.flatMap { UpstreamTarget(baseURL: $0) }
        var all: [String] = []
        for url in layout.defaultURLs + layout.routes.flatMap(\.urls) where !all.contains(url) {
            all.append(url)
        }
        let backends = all.enumerated().map { index, url in
            UpstreamBackend(index: index, url: url, primary: primary, ejects: all.count > 1)
        }
        self.backends = backends
        var groups: [[Int]: BackendGroup] = [:]
        var distinct: [BackendGroup] = []
        func group(_ urls: [String]) -> BackendGroup {
            let indices = urls.compactMap { url in all.firstIndex(of: url) }
            if let existing = groups[indices] { return existing }
            let made = BackendGroup(backends: indices.map { backends[$0] })
            groups[indices] = made
            distinct.append(made)
            return made
        }
        defaultGroup = group(layout.defaultURLs)
        var byModel: [String: BackendGroup] = [:]
        for route in layout.routes {
            byModel[route.model] = group(route.urls)
        }
        self.byModel = byModel
        distinctGroups = distinct
    }

    /// The pool for a request naming `model` (nil: none, or not a JSON route).
    func group(for model: String?) -> BackendGroup {
        guard !byModel.isEmpty, let model, let group = byModel[model] else { return defaultGroup }
        return group
    }

    /// `/v1/models` answers the union of every pool's list, not one backend's.
    var unitesModels: Bool { distinctGroups.count > 1 }

    /// Probes and ejection only matter with several backends.
    var hasSeveralBackends: Bool { backends.count > 1 }
}
