import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigningCore
import SigningCrypto

/// The network half of `verify chat`: one completion with its exact bytes, its signatures and fresh
/// attestation reports from the same proxy.
struct ChatExchangeClient {
    /// A failure of the exchange itself (not of a check): the proxy could not be asked.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Everything the verifier needs, as raw bytes.
    struct Exchange {
        var request: [UInt8]
        var response: [UInt8]
        var chatID: String
        var model: String
    }

    let baseURL: String
    let token: String
    let timeout: TimeAmount
    var client: HTTPClient = .shared
    static let maxBody = 64 << 20

    init(url: String, token: String, timeout: TimeAmount) {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        self.baseURL = base
        self.token = token
        self.timeout = timeout
    }

    /// Sends one chat completion and keeps the exact request and response bytes.
    func chat(model explicitModel: String?, prompt: String, stream: Bool, maxTokens: Int) async throws -> Exchange {
        let model: String
        if let explicitModel {
            model = explicitModel
        } else {
            model = try await firstModel()
        }
        var body: [String: Any] = [
            "model": model,
            "messages": [["role": "user", "content": prompt]],
            "max_tokens": maxTokens,
        ]
        if stream { body["stream"] = true }
        let request = Array(try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
        let (status, headers, response) = try await send(.POST, "/v1/chat/completions", body: request, auth: true)
        guard status == .ok else {
            throw Failure(description: "chat completion answered \(status.code): \(Self.excerpt(response))")
        }
        let isStream = headers.first(name: "content-type")?.lowercased().hasPrefix("text/event-stream") == true
        let chatID: String?
        if isStream {
            var scanner = ChatIDScanner()
            _ = response.withUnsafeBytes { scanner.feed($0) }
            chatID = scanner.chatID
        } else {
            chatID = response.withUnsafeBytes { TopLevelIDExtractor.stringID(in: $0) }
        }
        guard let chatID else { throw Failure(description: "the completion carries no chat id") }
        return Exchange(request: request, response: response, chatID: chatID, model: model)
    }

    /// `GET /v1/signature/{chat_id}?signing_algo=…`: the record bytes.
    func signature(chatID: String, algorithm: String) async throws -> [UInt8] {
        let id = chatID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? chatID
        let (status, _, body) = try await send(.GET, "/v1/signature/\(id)?signing_algo=\(algorithm)", auth: true)
        guard status == .ok else {
            throw Failure(description: "signature (\(algorithm)) answered \(status.code): \(Self.excerpt(body))")
        }
        return body
    }

    /// `GET /v1/attestation/report` for `nonce` and `signingAddress`: the report bytes.
    func attestation(algorithm: String, nonce: [UInt8], signingAddress: String, tls: Bool) async throws -> [UInt8] {
        var query = "signing_algo=\(algorithm)&nonce=\(Hex.encode(nonce))&signing_address=\(signingAddress)"
        if tls { query += "&include_tls_fingerprint=true" }
        let (status, _, body) = try await send(.GET, "/v1/attestation/report?\(query)", auth: true)
        guard status == .ok else {
            throw Failure(description: "attestation report (\(algorithm)) answered \(status.code): \(Self.excerpt(body))")
        }
        return body
    }

    private func firstModel() async throws -> String {
        let (status, _, body) = try await send(.GET, "/v1/models", auth: false)
        struct Models: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        guard status == .ok, let id = (try? JSONDecoder().decode(Models.self, from: Data(body)))?.data.first?.id else {
            throw Failure(description: "no --model given and /v1/models names none")
        }
        return id
    }

    private func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, auth: Bool
    ) async throws -> (HTTPResponseStatus, HTTPHeaders, [UInt8]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if auth { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await client.execute(request, timeout: timeout)
            let buffer = try await response.body.collect(upTo: Self.maxBody)
            return (response.status, response.headers, Array(buffer.readableBytesView))
        } catch {
            throw Failure(description: "\(method) \(path.split(separator: "?")[0]) failed: \(error)")
        }
    }

    private static func excerpt(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(200), as: UTF8.self)
    }
}
