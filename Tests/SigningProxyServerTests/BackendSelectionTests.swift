import Foundation
import NIOCore
import Testing

@testable import SigningProxyServer

/// The choice of a backend and its ejection as values, without sockets (docs/API.md, "Several backends").
@Suite("Several backends: selection, ejection, configuration, models union")
struct BackendSelectionTests {
    private static func pick(_ loads: [Int], ejected: Set<Int> = [], start: Int = 0, tried: UInt64 = 0, allowEjected: Bool = true) -> Int? {
        BackendSelection.pick(
            count: loads.count, start: start, tried: tried, allowEjected: allowEjected,
            inFlight: { loads[$0] }, isEjected: { ejected.contains($0) })
    }

    @Test("Fewest requests in flight wins; ties go round robin from the cursor")
    func fewestInFlight() {
        #expect(Self.pick([3, 1, 2]) == 1)
        #expect(Self.pick([0, 0, 0], start: 0) == 0)
        #expect(Self.pick([0, 0, 0], start: 1) == 1)
        #expect(Self.pick([0, 0, 0], start: 5) == 2)
        #expect(Self.pick([0, 0, 0], start: -1) != nil)
        // Successive cursors over equal loads visit every backend once.
        #expect(Set((0..<3).compactMap { Self.pick([2, 2, 2], start: $0) }) == [0, 1, 2])
        #expect(Self.pick([]) == nil)
    }

    @Test("Ejected backends are skipped; when all are, the least loaded is still tried first, never after a connect failure")
    func ejected() {
        #expect(Self.pick([0, 5], ejected: [0]) == 1)
        #expect(Self.pick([4, 5], ejected: [0, 1]) == 0)
        #expect(Self.pick([4, 5], ejected: [0, 1], allowEjected: false) == nil)
        // After backend 1 failed to connect, only others are tried.
        #expect(Self.pick([0, 0, 9], tried: 0b010, allowEjected: false) == 0)
        #expect(Self.pick([0, 0], ejected: [0], tried: 0b10, allowEjected: false) == nil)
        #expect(Self.pick([0], tried: 0b1) == nil)
    }

    @Test("A connect failure or a cut answer ejects at once; 5xx only in a row; a 200 probe brings it back")
    func health() {
        var health = BackendHealth()
        #expect(health.answered(status: 500) == .none)
        #expect(health.answered(status: 503) == .none)
        #expect(health.answered(status: 200) == .none)
        #expect(health.isClear)
        #expect(health.answered(status: 500) == .none)
        #expect(health.answered(status: 502) == .none)
        #expect(health.answered(status: 500) == .ejected)
        #expect(health.isEjected)
        #expect(health.answered(status: 500) == .none)
        #expect(health.probed(healthy: false) == .none)
        #expect(health.isEjected)
        #expect(health.probed(healthy: true) == .restored)
        #expect(health.isClear)
        #expect(health.connectFailed() == .ejected)
        #expect(health.connectFailed() == .none)
        #expect(health.probed(healthy: true) == .restored)
        #expect(health.answerCut() == .ejected)
        #expect(health.probed(healthy: true) == .restored)
        // Probes alone eject after two failures in a row.
        #expect(health.probed(healthy: false) == .none)
        #expect(health.probed(healthy: false) == .ejected)
        #expect(health.probed(healthy: true) == .restored)
        #expect(health.probed(healthy: false) == .none)
        #expect(health.probed(healthy: true) == .none)
        #expect(health.probed(healthy: false) == .none)
        #expect(!health.isEjected)
    }

    @Test("A lone backend is never ejected; counts and health show in the metrics")
    func loneBackend() {
        let routing = BackendRouting(layout: BackendLayout(defaultURLs: ["http://127.0.0.1:1"]))
        let backend = routing.backends[0]
        backend.connectFailed(UpstreamProtocolError.closedEarly)
        backend.answerCut(nil)
        #expect(!backend.isEjected)
        #expect(backend.ejections == 0)
        #expect(routing.group(for: "anything") === routing.defaultGroup)
        #expect(!routing.unitesModels)
    }

    @Test("Routing: a model's pool, the default pool for others, one backend per URL, rewrites for the others")
    func routing() throws {
        let layout = BackendLayout(
            defaultURLs: ["http://a:8000", "http://b:8000"],
            routes: [
                .init(model: "chat", urls: ["http://a:8000", "http://b:8000"]),
                .init(model: "embed", urls: ["https://c/prefix"]),
                .init(model: "embed-2", urls: ["https://c/prefix"]),
            ])
        let routing = BackendRouting(layout: layout)
        #expect(routing.backends.map(\.url) == ["http://a:8000", "http://b:8000", "https://c/prefix"])
        #expect(routing.group(for: "chat") === routing.defaultGroup)
        #expect(routing.group(for: "embed") === routing.group(for: "embed-2"))
        #expect(routing.group(for: "embed").backends.map(\.index) == [2])
        #expect(routing.group(for: nil) === routing.defaultGroup)
        #expect(routing.group(for: "Embed") === routing.defaultGroup)
        #expect(routing.distinctGroups.count == 2)
        #expect(routing.unitesModels)
        #expect(routing.backends[0].rewrite == nil)
        #expect(routing.backends[1].rewrite == .init(host: "b:8000", fromPrefix: "", toPrefix: ""))
        let rewrite = try #require(routing.backends[2].rewrite)
        #expect(rewrite.host == "c")
        #expect(rewrite.uri("/v1/embeddings") == "/prefix/v1/embeddings")
        // In flight and ejection are per backend, whichever pool chose it.
        let first = try #require(routing.defaultGroup.select(tried: 0, allowEjected: true))
        first.backend.lease()
        let second = try #require(routing.group(for: "chat").select(tried: 0, allowEjected: true))
        #expect(second.backend !== first.backend)
        first.backend.endLease()
        first.backend.connectFailed(UpstreamProtocolError.closedEarly)
        #expect(first.backend.isEjected && first.backend.ejections == 1)
        for _ in 0..<4 {
            #expect(routing.defaultGroup.select(tried: 0, allowEjected: true)?.backend === second.backend)
        }
        first.backend.probed(healthy: true)
        #expect(!first.backend.isEjected)
        let metrics = UpstreamPools(
            layout: layout, connectTimeout: .seconds(1), maxIdle: 4, group: .singleton
        ).renderMetrics()
        #expect(metrics.contains("\nsigning_proxy_backend_healthy{backend=\"https://c/prefix\"} 1\n"))
        #expect(metrics.contains("# TYPE signing_proxy_backend_in_flight gauge\n"))
        #expect(metrics.contains("signing_proxy_backend_ejections_total{backend=\"http://a:8000\"} 0\n"))
    }

    @Test("VLLM_BACKEND_URLS and VLLM_MODEL_BACKENDS parse; malformed values are refused at start-up")
    func configuration() throws {
        let parsed = try ProxyConfiguration(environment: [
            "VLLM_BACKEND_URLS": " http://a:8000/ , http://b:8000",
            "VLLM_MODEL_BACKENDS": "chat-model=http://a:8000,http://b:8000; org/embed:v1 = http://[::1]:8001/p",
        ])
        #expect(parsed.backendLayout.defaultURLs == ["http://a:8000", "http://b:8000"])
        #expect(
            parsed.backendLayout.routes == [
                .init(model: "chat-model", urls: ["http://a:8000", "http://b:8000"]),
                .init(model: "org/embed:v1", urls: ["http://[::1]:8001/p"]),
            ])
        #expect(try ProxyConfiguration(environment: ["VLLM_BASE_URL": "http://v:1/"]).backendLayout.defaultURLs == ["http://v:1"])
        #expect(ProxyConfiguration().backendLayout == BackendLayout(defaultURLs: ["http://vllm:8000"]))

        let refused: [[String: String]] = [
            ["VLLM_BACKEND_URLS": "http://a:8000,,http://b:8000"],
            ["VLLM_BACKEND_URLS": "http://a:8000,"],
            ["VLLM_BACKEND_URLS": "a:8000"],
            ["VLLM_BACKEND_URLS": "http://a:99999"],
            ["VLLM_BACKEND_URLS": "http://user:pw@a:8000"],
            ["VLLM_BACKEND_URLS": "http://a:8000,http://a:8000/"],
            ["VLLM_BACKEND_URLS": "http://a", "VLLM_BASE_URL": "http://b"],
            ["VLLM_BACKEND_URLS": (0...64).map { "http://h\($0)" }.joined(separator: ",")],
            ["VLLM_MODEL_BACKENDS": "chat"],
            ["VLLM_MODEL_BACKENDS": "=http://a"],
            ["VLLM_MODEL_BACKENDS": "chat="],
            ["VLLM_MODEL_BACKENDS": "chat=http://a;;embed=http://b"],
            ["VLLM_MODEL_BACKENDS": "chat=http://a;"],
            ["VLLM_MODEL_BACKENDS": "chat=http://a;chat=http://b"],
            ["VLLM_MODEL_BACKENDS": "chat=http://a|http://b"],
            ["VLLM_MODEL_BACKENDS": "chat=ftp://a"],
        ]
        for environment in refused {
            #expect(throws: ConfigurationError.self, "\(environment)") { try ProxyConfiguration(environment: environment) }
        }
        do {
            _ = try ProxyConfiguration(environment: ["VLLM_MODEL_BACKENDS": "chat=http://a,http://b:0"])
            Issue.record("accepted port 0")
        } catch {
            #expect("\(error)".contains("VLLM_MODEL_BACKENDS (model 'chat') has 'http://b:0'"))
        }
    }

    @Test("/v1/models union: every list's models in order, each id once, vLLM's shape")
    func modelsUnion() throws {
        let chat = ByteBuffer(
            string: #"{"object":"list","data":[{"id":"chat","object":"model","owned_by":"vllm","root":"org/chat","parent":null}]}"#)
        let chatAgain = ByteBuffer(string: #"{"object":"list","data":[{"id":"chat","object":"model","owned_by":"other"}]}"#)
        let embed = ByteBuffer(string: #"{"object":"list","data":[{"id":"embed","object":"model","max_model_len":512}]}"#)
        let merged = try #require(ModelsUnion.merge([chat, ByteBuffer(string: "not json"), chatAgain, embed]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(merged.readableBytesView)) as? [String: Any])
        #expect(object["object"] as? String == "list")
        let data = try #require(object["data"] as? [[String: Any]])
        #expect(data.map { $0["id"] as? String } == ["chat", "embed"])
        #expect(data[0]["owned_by"] as? String == "vllm")
        #expect(data[0]["root"] as? String == "org/chat")
        #expect(String(buffer: merged).contains(#""root":"org/chat""#))
        #expect(ModelsUnion.merge([ByteBuffer(string: "[]"), ByteBuffer(string: "{}")]) == nil)
        #expect(ModelsUnion.merge([ByteBuffer(string: #"{"object":"list","data":[]}"#)]).map { String(buffer: $0) } == #"{"object":"list","data":[]}"#)
    }
}
