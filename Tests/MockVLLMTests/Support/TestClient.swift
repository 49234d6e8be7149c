import AsyncHTTPClient
import NIOCore

/// A complete answer read through AsyncHTTPClient.
struct TestResponse {
    var status: Int
    /// Header values by lowercased name.
    var headers: [String: [String]]
    var body: [UInt8]

    /// The values of header `name` (any case), in order.
    func header(_ name: String) -> [String] {
        self.headers[name.lowercased()] ?? []
    }

    var bodyText: String { String(decoding: self.body, as: UTF8.self) }
}

/// Requests against a local mock through AsyncHTTPClient's shared client.
enum TestClient {
    static func post(
        port: Int,
        path: String = "/v1/chat/completions",
        body: String,
        contentType: String = "application/json"
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(string: body))
        return try await self.execute(request)
    }

    static func get(port: Int, path: String) async throws -> TestResponse {
        try await self.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"))
    }

    static func execute(_ request: HTTPClientRequest, timeout: TimeAmount = .seconds(30)) async throws -> TestResponse {
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 << 20)
        var headers: [String: [String]] = [:]
        for (name, value) in response.headers {
            headers[name.lowercased(), default: []].append(value)
        }
        return TestResponse(status: Int(response.status.code), headers: headers, body: Array(body.readableBytesView))
    }
}
