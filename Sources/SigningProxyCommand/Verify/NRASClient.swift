import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigningProxyVerifier

/// Asks NVIDIA NRAS v3 for its verdict on a report's GPU evidence and fetches NRAS's signing keys:
/// the explicit online step of `--nras`. The library verifies both answers.
struct NRASClient {
    /// Why NRAS could not be asked.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let nvidiaNRAS = "https://nras.attestation.nvidia.com"
    static let maxBody = 4 << 20

    let baseURL: String
    let timeout: TimeAmount
    var client: HTTPClient = OnlineHTTPClient.shared

    init(baseURL: String?, timeout: TimeAmount = .seconds(60)) {
        var base = baseURL ?? Self.nvidiaNRAS
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.timeout = timeout
    }

    /// POSTs `payload` (the `nvidia_payload` object) to `/v3/attest/gpu` and GETs `/.well-known/jwks.json`.
    func attest(payload: [UInt8]) async throws(Failure) -> NRASAttestation {
        var post = HTTPClientRequest(url: baseURL + "/v3/attest/gpu")
        post.method = .POST
        post.headers.add(name: "Content-Type", value: "application/json")
        post.headers.add(name: "Accept", value: "application/json")
        post.body = .bytes(ByteBuffer(bytes: payload))
        let answer = try await send(post, "POST /v3/attest/gpu")
        let jwks = try await send(HTTPClientRequest(url: baseURL + "/.well-known/jwks.json"), "GET /.well-known/jwks.json")
        return NRASAttestation(response: answer, jwks: jwks)
    }

    private func send(_ request: HTTPClientRequest, _ what: String) async throws(Failure) -> [UInt8] {
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: timeout)
            body = try await response.body.collect(upTo: Self.maxBody)
        } catch {
            throw Failure(description: "\(what) failed: \(error)")
        }
        guard response.status == .ok else {
            throw Failure(description: "\(what) answered \(response.status.code): \(String(decoding: body.readableBytesView.prefix(200), as: UTF8.self))")
        }
        return Array(body.readableBytesView)
    }
}
