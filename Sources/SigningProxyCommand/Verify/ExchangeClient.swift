import Foundation
import NIOCore
import NIOHTTP1
import SigningContract
import SigningProxyVerifier

/// The network half of `verify exchange` / `verify chat`: one request on a signed route with its exact
/// bytes, its signatures and fresh attestation reports from the same proxy, with the server certificate
/// of every connection used.
struct ExchangeClient {
    /// A failure of the exchange itself (not of a check): the proxy could not be asked.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Everything the verifier needs, as raw bytes.
    struct Exchange {
        var path: String
        var request: [UInt8]
        var response: [UInt8]
        var status: HTTPResponseStatus
        var contentType: String?
        /// The answer's headers (an inline receipt's, among others).
        var headers: [(name: String, value: String)]
        /// The answer read as its route's grammar says (id, clean end).
        var reading: ResponseReading
        /// DER of the certificate the exchange's own connection presented (TLS only).
        var certificateDER: [UInt8]?
    }

    /// An answer of a lookup (signature or attestation report).
    struct Lookup {
        var status: HTTPResponseStatus
        var body: [UInt8]
        var certificateDER: [UInt8]?
    }

    let http: ProxyHTTPClient
    let token: String

    /// The first model of `/v1/models`.
    func firstModel() async throws -> String {
        let answer = try await send(.GET, "/v1/models", auth: false)
        struct Models: Decodable {
            struct Model: Decodable { var id: String }
            var data: [Model]
        }
        guard answer.status == .ok, let id = (try? JSONDecoder().decode(Models.self, from: Data(answer.body)))?.data.first?.id else {
            throw Failure(description: "no --model given and /v1/models names none")
        }
        return id
    }

    /// Sends `request` to `path` (a signed route) and keeps the exact request and response bytes.
    /// - Parameters:
    ///   - inline: ask for the answer's own receipt (docs/API.md, Inline receipts).
    ///   - headers: more request headers (E2EE's).
    func exchange(
        path: String, route: SignedRoute, request: [UInt8], inline: Bool = false, headers: [(String, String)] = []
    ) async throws -> Exchange {
        let extra = headers + (inline ? [(InlineReceiptFormat.requestHeader, InlineReceiptFormat.requestValue)] : [])
        let answer = try await send(.POST, path, body: request, auth: true, headers: extra)
        let contentType = answer.headers.first(name: "content-type")
        let reading = ResponseReading.read(answer.body, route: route, contentType: contentType)
        return Exchange(
            path: path, request: request, response: answer.body, status: answer.status, contentType: contentType,
            headers: answer.headers.map { ($0.name, $0.value) }, reading: reading, certificateDER: answer.peerCertificateDER)
    }

    /// `GET /v1/signature/{id}?signing_algo=…`: the answer, whatever its status.
    func signature(id: String, algorithm: SignatureAlgorithm) async throws -> Lookup {
        let escaped = id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? id
        let answer = try await send(.GET, "/v1/signature/\(escaped)?signing_algo=\(algorithm.rawValue)", auth: true)
        return Lookup(status: answer.status, body: answer.body, certificateDER: answer.peerCertificateDER)
    }

    /// `GET /v1/attestation/report` for `nonce` and `signingAddress` (nil: the proxy's current key), TLS-bound when `tls`.
    func attestation(algorithm: SignatureAlgorithm, nonce: [UInt8], signingAddress: String?, tls: Bool) async throws -> Lookup {
        var query = "signing_algo=\(algorithm.rawValue)&nonce=\(nonce.map { String(format: "%02x", $0) }.joined())"
        if let signingAddress {
            query += "&signing_address=\(signingAddress.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }
        if tls { query += "&include_tls_fingerprint=true" }
        let answer = try await send(.GET, "/v1/attestation/report?\(query)", auth: true)
        return Lookup(status: answer.status, body: answer.body, certificateDER: answer.peerCertificateDER)
    }

    private func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, auth: Bool, headers extra: [(String, String)] = []
    ) async throws -> ProxyHTTPClient.Response {
        var headers: [(String, String)] = extra
        if auth { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        do {
            return try await http.send(method, path, headers: headers, body: body)
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// The first 200 bytes of an answer, for failure messages.
    static func excerpt(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(200), as: UTF8.self)
    }
}
