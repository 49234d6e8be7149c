import NIOCore
import NIOPosix
import SigningProxyVerifier

/// Streams completions through the proxy and checks the served signatures over the exact bytes, with
/// the public SigningProxyVerifier library.
struct ExchangeChecker {
    let group: MultiThreadedEventLoopGroup
    let port: Int
    let token: String

    /// `request` defaults to a streamed chat completion; any signed streamed route works (the id is the
    /// first `"id"` of the body, as in chat chunks, `response.created` and `message_start`).
    func run(exchanges: Int, request given: RequestSpec? = nil) async -> VerificationFigures {
        let verifier = ResponseVerifier()
        var verified = 0
        var problems: [String] = []
        for _ in 0..<exchanges {
            let request = given ?? RequestSpec.chat(stream: true, token: token)
            do {
                let (status, response) = try await OneShot.fetch(group: group, port: port, request: request)
                guard status == 200, let id = ResponseTimer.firstID(in: response) else {
                    problems.append("stream: status \(status), no id")
                    continue
                }
                let requestBytes = Array(request.body?.readableBytesView ?? ByteBuffer().readableBytesView)
                for algorithm in ["ecdsa", "ed25519"] {
                    let lookup = RequestSpec.get("/v1/signature/\(id)?signing_algo=\(algorithm)", token: token)
                    let (lookupStatus, signature) = try await OneShot.fetch(group: group, port: port, request: lookup)
                    let report = verifier.verifySignature(request: requestBytes, response: response, signature: signature)
                    if lookupStatus == 200 && report.ok {
                        verified += 1
                    } else {
                        problems.append("\(algorithm): status \(lookupStatus), \(report.failures.map(\.id))")
                    }
                }
            } catch {
                problems.append("\(error)")
            }
        }
        return VerificationFigures(
            exchanges: exchanges, signaturesVerified: verified,
            detail: problems.isEmpty ? "all verified" : problems.joined(separator: "; "))
    }
}
