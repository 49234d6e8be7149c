import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigningProxyVerifier

/// Asks NVIDIA NRAS v3 for its verdict on a report's GPU evidence and fetches NRAS's signing keys:
/// the explicit online step of `--nras`. The library verifies both answers.
struct NRASClient {
    typealias Failure = OnlineHTTPClient.Failure

    static let nvidiaNRAS = "https://nras.attestation.nvidia.com"

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
        let answer = try await OnlineHTTPClient.send(post, what: "POST /v3/attest/gpu", timeout: timeout, client: client).body
        let jwks = try await OnlineHTTPClient.send(
            HTTPClientRequest(url: baseURL + "/.well-known/jwks.json"), what: "GET /.well-known/jwks.json", timeout: timeout, client: client
        ).body
        return NRASAttestation(response: answer, jwks: jwks)
    }
}
