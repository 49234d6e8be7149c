import Foundation
import SigningProxyVerifier
import Synchronization

/// What the proxy's `/v1/signature/{id}` says about one exchange, judged from the client's side.
enum SignatureVerdict: String, Codable, Sendable, CaseIterable {
    /// Complete clean answer; both signatures verify over the bytes sent and received, by the pinned keys.
    case verified
    /// A signature exists but does not verify over the bytes received (or not by the pinned key).
    case wrong
    /// Complete clean answer with an id, and no signature (404), still none 200 ms later.
    case missing
    /// Complete clean answer; 404 when asked the moment the last byte was read, present 200 ms later.
    case publishedLate = "published_late"
    /// The client did not receive the complete answer, yet a signature exists for its id.
    case signedButUndelivered = "signed_but_undelivered"
    /// Incomplete answer and no signature: what should happen.
    case unsignedAsExpected = "unsigned_as_expected"
    /// No id to look up (an error answer, or cut before the id).
    case noID = "no_id"
    /// The lookup itself failed (connection error or an unexpected status).
    case lookupFailed = "lookup_failed"
}

/// Looks signatures up on the proxy and checks them with the SigningProxyVerifier library.
///
/// The signing addresses are pinned at the first signature seen (one per algorithm): every later record
/// must name the same key, and the verifier checks that each signature recovers (ecdsa) or verifies
/// (ed25519) under that key.
final class SignatureChecker: Sendable {
    let port: Int
    let token: String
    private let verifier = ResponseVerifier()
    private let pinned = Mutex<[String: String]>([:])

    /// `ecdsaAddress`, when known (the proxy logs it at start-up), is pinned from the start.
    init(port: Int, token: String, ecdsaAddress: String? = nil) {
        self.port = port
        self.token = token
        if let ecdsaAddress { pinned.withLock { $0["ecdsa"] = ecdsaAddress } }
    }

    /// The pinned signing address of each algorithm.
    var addresses: [String: String] { pinned.withLock { $0 } }

    /// `GET /v1/signature/{id}?signing_algo=algorithm` on a fresh connection: status and body, nil on failure.
    func lookup(_ id: String, algorithm: String) -> (status: Int, body: [UInt8])? {
        guard let socket = try? RawSocket(port: port) else { return nil }
        defer { socket.close() }
        let request = RawRequest.get("/v1/signature/\(Self.percentEncoded(id))?signing_algo=\(algorithm)", token: token, close: true)
        let conversation = Conversation.exchange(socket, request: request, policy: ReadPolicy(overall: .seconds(10)))
        guard let response = conversation.responses.first else { return nil }
        return (response.status, response.body)
    }

    /// Judges a complete, clean answer, looked up the moment its last byte was read: verified, wrong,
    /// missing, or published late (404 then, present 200 ms later; docs/API.md promises a client that has
    /// read the end and asks finds it).
    func judgeDelivered(id: String, request: [UInt8], response: [UInt8]) -> (SignatureVerdict, String) {
        var records: [String: [UInt8]] = [:]
        var absent: [String] = []
        for algorithm in ["ecdsa", "ed25519"] {
            guard let (status, body) = lookup(id, algorithm: algorithm) else {
                return (.lookupFailed, "\(algorithm): lookup connection failed")
            }
            switch status {
            case 200: records[algorithm] = body
            case 404: absent.append(algorithm)
            default: return (.lookupFailed, "\(algorithm): status \(status)")
            }
        }
        var problems: [String] = []
        var late: [String] = []
        if !absent.isEmpty {
            Thread.sleep(forTimeInterval: 0.2)
            for algorithm in absent {
                if let (status, body) = lookup(id, algorithm: algorithm), status == 200 {
                    records[algorithm] = body
                    late.append(algorithm)
                } else {
                    problems.append("\(algorithm): 404, still 404 200 ms later")
                }
            }
        }
        for (algorithm, body) in records.sorted(by: { $0.key < $1.key }) {
            let report = verifier.verifySignature(request: request, response: response, signature: body)
            if !report.ok { problems.append("\(algorithm): \(report.failures.map { "\($0.id): \($0.detail)" })") }
            if let address = Self.signingAddress(body), !pin(algorithm, address) {
                problems.append("\(algorithm): signing_address \(address) is not the pinned one")
            }
        }
        let lateNote = late.isEmpty ? "" : "404 when asked at once, present 200 ms later: \(late.joined(separator: ", "))"
        if records.isEmpty { return (.missing, problems.joined(separator: "; ")) }
        if !problems.isEmpty { return (.wrong, ([lateNote] + problems).filter { !$0.isEmpty }.joined(separator: "; ")) }
        return late.isEmpty ? (.verified, "") : (.publishedLate, lateNote)
    }

    /// Judges an answer the client did not receive completely: any signature is one too many.
    func judgeUndelivered(id: String) -> (SignatureVerdict, String) {
        var statuses: [String] = []
        for algorithm in ["ecdsa", "ed25519"] {
            guard let (status, _) = lookup(id, algorithm: algorithm) else {
                return (.lookupFailed, "\(algorithm): lookup connection failed")
            }
            if status == 200 { return (.signedButUndelivered, "\(algorithm): 200") }
            statuses.append("\(algorithm): \(status)")
            if status != 404 { return (.lookupFailed, statuses.joined(separator: "; ")) }
        }
        return (.unsignedAsExpected, "")
    }

    /// Pins `address` for `algorithm` on first sight; false when it differs from the pinned one.
    private func pin(_ algorithm: String, _ address: String) -> Bool {
        pinned.withLock { table in
            if let known = table[algorithm] { return known.lowercased() == address.lowercased() }
            table[algorithm] = address
            return true
        }
    }

    private static func signingAddress(_ body: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return nil }
        return object["signing_address"] as? String
    }

    static func percentEncoded(_ id: String) -> String {
        var output = ""
        for byte in id.utf8 {
            let scalar = Unicode.Scalar(byte)
            if (byte < 0x80) && (CharacterSet.alphanumerics.contains(scalar) || "-._~".unicodeScalars.contains(scalar)) {
                output.unicodeScalars.append(scalar)
            } else {
                output += String(format: "%%%02X", byte)
            }
        }
        return output
    }
}
