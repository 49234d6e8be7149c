import Foundation
import NIOHTTP1
import SigningContract
import SigningProxyVerifier

/// `verify exchange` and `verify chat` after the options are read: one exchange on a signed route, then
/// for each algorithm its signature and a fresh attestation report with its own nonce, and the TLS
/// binding of the connection actually used.
struct ExchangeVerification {
    let client: ExchangeClient
    let pins: VerifyPinOptions
    let collateral: VerifyCollateralOptions
    let nras: VerifyNRASOptions

    /// What an encrypted exchange adds (`verify chat --e2ee`): its request headers, checks of the answer received
    /// (opened), and a check that the key the prompt was sealed to is the signer of one algorithm.
    struct Extension {
        var headers: [(String, String)]
        var inspect: (ExchangeClient.Exchange) -> [VerificationReport.Check]
        var signer: (algorithm: SignatureAlgorithm, check: (_ signingAddress: String) -> VerificationReport.Check)?
    }

    /// Sends `request` to `path` and verifies what comes back; a proxy that cannot be asked is one failed
    /// `exchange` check.
    /// - Parameter inline: verify the answer's own receipt instead of looking its signatures up.
    func run(
        path: String, route: SignedRoute, request: [UInt8], expectedModel: String?, inline: Bool = false,
        extension added: Extension? = nil
    ) async throws -> VerificationReport {
        let exchange: ExchangeClient.Exchange
        do {
            exchange = try await client.exchange(
                path: path, route: route, request: request, inline: inline, headers: added?.headers ?? [])
        } catch let failure as ExchangeClient.Failure {
            return VerificationReport(checks: [.init(id: "exchange", status: .fail, detail: failure.description)])
        }
        do {
            return try await verify(exchange, expectedModel: expectedModel, inline: inline, added: added)
        } catch let failure as ExchangeClient.Failure {
            return VerificationReport(checks: [.init(id: "exchange", status: .fail, detail: failure.description)])
        }
    }

    private func verify(
        _ exchange: ExchangeClient.Exchange, expectedModel: String?, inline: Bool, added: Extension?
    ) async throws -> VerificationReport {
        var head: [VerificationReport.Check] = []
        func fail(_ id: String, _ detail: String) -> VerificationReport {
            VerificationReport(checks: head + [.init(id: id, status: .fail, detail: detail)])
        }
        guard exchange.status == .ok else {
            return fail("exchange", "\(exchange.path) answered \(exchange.status.code): \(ExchangeClient.excerpt(exchange.response))")
        }
        let reading = exchange.reading
        guard reading.isSignable, let id = reading.id else {
            return fail(
                "exchange.response",
                "\(exchange.path): \(reading.summary); signing-proxy signs only answers with an id that end cleanly, so there is nothing to verify")
        }
        head.append(.init(
            id: "exchange.response", status: .pass,
            detail: "\(exchange.path): \(reading.summary) (\(exchange.request.count) request bytes, \(exchange.response.count) response bytes)"))
        if let added { head += added.inspect(exchange) }

        // With --inline the records come from the answer itself, and sign the bytes before the receipt.
        var receipt: InlineReceipt?
        if inline {
            guard let found = InlineReceipt.read(body: exchange.response, headers: exchange.headers) else {
                return fail("receipt.inline", "\(exchange.path): the answer carries no inline receipt (X-Signing-Receipt: inline was sent)")
            }
            receipt = found
            head.append(.init(
                id: "receipt.inline", status: .pass,
                detail: "the answer carries \(found.records.count) signature records; \(found.signedResponse.count) response bytes signed"))
        }
        let signedResponse = receipt?.signedResponse ?? exchange.response

        let tls = client.http.isTLS
        var observed: [UInt8]?
        if tls {
            guard let der = exchange.certificateDER, let fingerprint = ResponseVerifier.tlsFingerprint(certificateDER: der) else {
                return fail("tls.connection", "the exchange's TLS connection presented no readable certificate")
            }
            observed = fingerprint
        } else if pins.requireTls {
            return fail("tls.connection", "--require-tls compares the report's TLS binding with the connection's certificate: use an https:// URL")
        }

        var options = try pins.options(expectedModel: expectedModel)
        options.observedTLSFingerprint = observed
        try collateral.configure(&options)
        let cache = CollateralCache()
        var lookupCertificates: [[UInt8]?] = []
        var body = VerificationReport(checks: [])
        for (index, algorithm) in SignatureAlgorithm.allCases.enumerated() {
            let prefix = index == 0 ? "" : "\(algorithm.rawValue)/"
            let signature: ExchangeClient.Lookup
            if let receipt {
                guard let record = receipt.records.first(where: { Self.algorithm(of: $0) == algorithm.rawValue }) else {
                    body = body.appending(Self.failure("signature.inline", "the inline receipt has no \(algorithm.rawValue) record"), prefix: prefix)
                    continue
                }
                signature = ExchangeClient.Lookup(status: .ok, body: record, certificateDER: exchange.certificateDER)
            } else {
                signature = try await client.signature(id: id, algorithm: algorithm)
            }
            lookupCertificates.append(signature.certificateDER)
            guard signature.status == .ok else {
                body = body.appending(
                    Self.failure("signature.lookup", "/v1/signature/\(id) (\(algorithm.rawValue)) answered \(signature.status.code): \(ExchangeClient.excerpt(signature.body))"),
                    prefix: prefix)
                continue
            }
            let address = Self.signingAddress(in: signature.body) ?? ""
            if let signer = added?.signer, signer.algorithm == algorithm {
                body = body.appending(VerificationReport(checks: [signer.check(address)]), prefix: prefix)
            }
            let nonce = (0..<32).map { _ in UInt8.random(in: 0...255) }
            let attestation = try await client.attestation(algorithm: algorithm, nonce: nonce, signingAddress: address, tls: tls)
            lookupCertificates.append(attestation.certificateDER)
            guard attestation.status == .ok else {
                // Development keys (503) or an agent that failed: the signature checks still say what they can.
                let signatureOnly = ResponseVerifier(options: options).verifySignature(
                    request: exchange.request, response: signedResponse, signature: signature.body)
                body = body.appending(signatureOnly, prefix: prefix).appending(
                    Self.failure(
                        "report.fetch",
                        "attestation report (\(algorithm.rawValue)) answered \(attestation.status.code): "
                            + "\(ExchangeClient.excerpt(attestation.body)); the signing key is not bound to attested hardware"),
                    prefix: prefix)
                continue
            }
            var reportOptions = options
            let online = await OnlineEvidence.gather(
                for: attestation.body, signingAddress: address, collateral: collateral, nras: nras, cache: cache,
                into: &reportOptions)
            let result = ResponseVerifier(options: reportOptions).verify(
                request: exchange.request, response: signedResponse, signature: signature.body,
                attestation: attestation.body, nonce: nonce)
            body = body.appending(try online.apply(to: result), prefix: prefix)
        }
        if let observed {
            let seen = lookupCertificates.map { $0.flatMap(ResponseVerifier.tlsFingerprint(certificateDER:)) }
            let hex = observed.map { String(format: "%02x", $0) }.joined()
            if seen.allSatisfy({ $0 == observed }) {
                head.append(.init(
                    id: "tls.connection", status: .pass,
                    detail: "exchange over TLS; server key SPKI SHA-256 \(hex), the same on all \(seen.count) lookup connections"))
            } else {
                head.append(.init(
                    id: "tls.connection", status: .fail,
                    detail: "the exchange's connection presented key \(hex), but a lookup connection presented another key"))
            }
        }
        return VerificationReport(checks: head).appending(body)
    }

    private static func failure(_ id: String, _ detail: String) -> VerificationReport {
        VerificationReport(checks: [.init(id: id, status: .fail, detail: detail)])
    }

    /// `signing_algo` of a signature record.
    private static func algorithm(of record: [UInt8]) -> String? {
        struct Record: Decodable { var signing_algo: String }
        return (try? JSONDecoder().decode(Record.self, from: Data(record)))?.signing_algo
    }

    /// `signing_address` of a signature record, to ask the report for the same key.
    private static func signingAddress(in record: [UInt8]) -> String? {
        struct Record: Decodable { var signing_address: String }
        return (try? JSONDecoder().decode(Record.self, from: Data(record)))?.signing_address
    }
}
