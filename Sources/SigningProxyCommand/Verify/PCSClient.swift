import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SigningProxyVerifier

/// Fetches a quote's collateral from Intel PCS v4 (or a PCCS at another base URL): the explicit
/// online step of `--fetch-collateral`. Everything fetched is verified offline by the library.
struct PCSClient {
    typealias Failure = OnlineHTTPClient.Failure

    static let intelPCS = "https://api.trustedservices.intel.com"
    static let intelRootCACRL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"

    /// Base URL of PCS or a PCCS (no trailing slash).
    let baseURL: String
    /// Where the Root CA CRL comes from: Intel's certificate host for PCS, `…/rootcacrl` of a PCCS.
    let rootCACRLURL: String
    let timeout: TimeAmount
    var client: HTTPClient = OnlineHTTPClient.shared

    /// A client for Intel PCS, or for the PCCS at `pccsURL`.
    init(pccsURL: String?, timeout: TimeAmount = .seconds(30)) {
        var base = pccsURL ?? Self.intelPCS
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.rootCACRLURL = pccsURL == nil ? Self.intelRootCACRL : base + "/sgx/certification/v4/rootcacrl"
        self.timeout = timeout
    }

    /// TCB info, QE identity, PCK CRL and Root CA CRL for `request`, with their issuer chains.
    func fetch(_ request: CollateralRequest) async throws(Failure) -> QuoteCollateral {
        let tcb = try await get("/tdx/certification/v4/tcb?fmspc=\(request.fmspc)", chainHeaders: ["TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"])
        let qe = try await get("/tdx/certification/v4/qe/identity", chainHeaders: ["SGX-Enclave-Identity-Issuer-Chain"])
        let crl = try await get("/sgx/certification/v4/pckcrl?ca=\(request.pckCA)&encoding=der", chainHeaders: ["SGX-PCK-CRL-Issuer-Chain"])
        let root = try await get(absolute: rootCACRLURL, chainHeaders: [])
        return QuoteCollateral(
            tcbInfo: tcb.body, tcbInfoIssuerChain: tcb.chain ?? [], qeIdentity: qe.body, qeIdentityIssuerChain: qe.chain ?? [],
            pckCRL: crl.body, pckCRLIssuerChain: crl.chain, rootCACRL: root.body)
    }

    private func get(_ path: String, chainHeaders: [String]) async throws(Failure) -> (body: [UInt8], chain: [UInt8]?) {
        try await get(absolute: baseURL + path, chainHeaders: chainHeaders)
    }

    /// GETs `url`; the first of `chainHeaders` present is URL-decoded into a PEM chain.
    private func get(absolute url: String, chainHeaders: [String]) async throws(Failure) -> (body: [UInt8], chain: [UInt8]?) {
        let shown = "GET " + url.split(separator: "?")[0]
        let (headers, body) = try await OnlineHTTPClient.send(HTTPClientRequest(url: url), what: shown, timeout: timeout, client: client)
        guard !chainHeaders.isEmpty else { return (body, nil) }
        guard let encoded = chainHeaders.lazy.compactMap({ headers.first(name: $0) }).first, let decoded = encoded.removingPercentEncoding
        else {
            throw Failure(description: "\(shown) answered without a URL-encoded \(chainHeaders[0]) header")
        }
        return (body, Array(decoded.utf8))
    }
}
