/// Which vLLM backends serve which requests (docs/API.md, Environment, "Several backends"):
/// `VLLM_BACKEND_URLS` (or `VLLM_BASE_URL` alone) is the default pool, and `VLLM_MODEL_BACKENDS` sends
/// the requests naming a model to that model's pool.
package struct BackendLayout: Sendable, Equatable {
    /// The backends of one model named in `VLLM_MODEL_BACKENDS`.
    package struct ModelRoute: Sendable, Equatable {
        package var model: String
        package var urls: [String]

        package init(model: String, urls: [String]) {
            self.model = model
            self.urls = urls
        }
    }

    /// Requests naming no routed model (or none at all) go here.
    package var defaultURLs: [String]
    package var routes: [ModelRoute]

    package init(defaultURLs: [String], routes: [ModelRoute] = []) {
        self.defaultURLs = defaultURLs
        self.routes = routes
    }

    /// The most backends in one pool: a pool's tried backends are a bit set of one word.
    package static let maxPoolSize = 64

    /// `http://a:8000,http://b:8000`: base URLs separated by commas, blanks around them ignored; an
    /// empty entry, a duplicate or a URL that does not parse is refused.
    package static func parseURLs(_ raw: String, variable: String) throws(ConfigurationError) -> [String] {
        var urls: [String] = []
        for entry in raw.split(separator: ",", omittingEmptySubsequences: false) {
            var url = String(entry).trimmingWhitespace()
            while url.hasSuffix("/") { url.removeLast() }
            guard !url.isEmpty else { throw .invalid(variable, "has an empty entry (base URLs are separated by single commas)") }
            guard UpstreamTarget(baseURL: url) != nil else {
                throw .invalid(variable, "has '\(url)', which is not http(s)://host[:port][/path] (port 1–65535, no user info)")
            }
            guard !urls.contains(url) else { throw .invalid(variable, "names \(url) twice") }
            urls.append(url)
        }
        guard urls.count <= maxPoolSize else { throw .invalid(variable, "names more than \(maxPoolSize) backends in one pool") }
        return urls
    }

    /// `chat-model=http://a:8000,http://b:8000;embed-model=http://c:8001`: routes separated by `;`, each
    /// a model name (as requests send it in `model`), `=`, and its base URLs as `parseURLs` reads them.
    package static func parseRoutes(_ raw: String) throws(ConfigurationError) -> [ModelRoute] {
        let variable = "VLLM_MODEL_BACKENDS"
        var routes: [ModelRoute] = []
        for entry in raw.split(separator: ";", omittingEmptySubsequences: false) {
            let text = String(entry).trimmingWhitespace()
            guard !text.isEmpty else { throw .invalid(variable, "has an empty entry (routes are separated by single ';')") }
            guard let equals = text.firstIndex(of: "=") else {
                throw .invalid(variable, "has '\(text)', which is not model=url[,url…]")
            }
            let model = String(text[..<equals]).trimmingWhitespace()
            guard !model.isEmpty else { throw .invalid(variable, "has a route with no model name before '='") }
            guard !routes.contains(where: { $0.model == model }) else { throw .invalid(variable, "routes model '\(model)' twice") }
            let urls = try parseURLs(String(text[text.index(after: equals)...]), variable: "\(variable) (model '\(model)')")
            routes.append(ModelRoute(model: model, urls: urls))
        }
        return routes
    }
}
