import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SigningContract
import SigningCore
import SigningCrypto

/// The demo's end-to-end check: a streamed completion verified from its exact bytes, and a fresh
/// attestation report whose quote binds the signing address to our nonce.
struct DemoSelfCheck {
    let base: String
    let token: String
    let keys: SigningKeys

    /// Prints one line per check; true when all passed.
    func run() async -> Bool {
        var passed = true
        func report(_ ok: Bool, _ line: String) {
            print("  \(ok ? "✔" : "✘") \(line)")
            passed = passed && ok
        }
        do {
            let request = Array(
                #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"stream":true,"stream_options":{"include_usage":true}}"#
                    .utf8)
            let (status, response) = try await send(.POST, "/v1/chat/completions", body: request)
            report(status == 200 && response.count > 0, "streamed \(response.count) bytes (status \(status))")
            var scanner = ChatIDScanner()
            response.withUnsafeBytes { _ = scanner.feed($0) }
            guard let chatID = scanner.chatID, scanner.sawDone else {
                report(false, "stream carries a chat id and ends with data: [DONE]")
                return false
            }
            let expected = SignedText(request: request, response: response).text

            let (_, ecdsaBody) = try await send(.GET, "/v1/signature/\(chatID)?signing_algo=\(SignatureAlgorithm.ecdsa.rawValue)")
            let ecdsa = try JSONSerialization.jsonObject(with: Data(ecdsaBody)) as? [String: Any] ?? [:]
            let text = ecdsa["text"] as? String ?? ""
            report(text == expected, "signed text equals sha256(request):sha256(response) computed here")
            let recovered = try? PersonalSign.recoverAddress(message: Array(text.utf8), signature: ecdsa["signature"] as? String ?? "")
            report(
                recovered?.checksummed == ecdsa["signing_address"] as? String && recovered == keys.ecdsaAddress,
                "EIP-191 signature recovers to \(recovered?.checksummed ?? "nothing")")

            let (_, edBody) = try await send(.GET, "/v1/signature/\(chatID)?signing_algo=\(SignatureAlgorithm.ed25519.rawValue)")
            let ed = try JSONSerialization.jsonObject(with: Data(edBody)) as? [String: Any] ?? [:]
            let edValid = (try? Curve25519.Signing.PublicKey(rawRepresentation: Hex.decode(ed["signing_address"] as? String ?? "")))
                .map { key in
                    (try? Hex.decode(ed["signature"] as? String ?? "")).map { key.isValidSignature($0, for: Array(text.utf8)) } ?? false
                } ?? false
            report(edValid, "ed25519 signature verifies")

            var nonce = [UInt8](repeating: 0, count: 32)
            for index in nonce.indices { nonce[index] = UInt8.random(in: 0...255) }
            let address = keys.ecdsaAddress.checksummed
            let (reportStatus, reportBody) = try await send(
                .GET, "/v1/attestation/report?nonce=\(Hex.encode(nonce))&signing_address=\(address)")
            let attestation = try JSONSerialization.jsonObject(with: Data(reportBody)) as? [String: Any] ?? [:]
            report(reportStatus == 200, "attestation report served (mode: \(attestation["mode"] as? String ?? "?"))")
            let quote = (try? Hex.decode(attestation["intel_quote"] as? String ?? "")) ?? []
            let expectedReportData = ReportData.make(signer: keys.ecdsaAddress.bytes, nonce: nonce, tlsFingerprint: nil)
            report(
                ReportData.fromQuote(quote).map(Array.init) == expectedReportData,
                "quote report_data binds the signing address to our nonce")
            print("    (simulated quote: its DCAP signature cannot verify, by design; see `signing-proxy verify`)")
        } catch {
            report(false, "self-check failed: \(error)")
        }
        print(passed ? "\nSelf-check passed." : "\nSelf-check FAILED.")
        return passed
    }

    private func send(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil) async throws -> (Int, [UInt8]) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Array(collected.readableBytesView))
    }
}
