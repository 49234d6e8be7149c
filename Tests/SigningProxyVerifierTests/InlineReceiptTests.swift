import Foundation
import SigningContract
import Testing

@testable import SigningProxyVerifier

/// Receipts carried by the answer itself (docs/API.md, Inline receipts), read back from the received
/// bytes and verified with the reference vectors.
@Suite("Inline receipts: read from the bytes alone, verified")
struct InlineReceiptTests {
    let verifier = ResponseVerifier(options: VerificationOptions(expectedModel: "tiny", now: Fixtures.now))

    func body() throws -> [UInt8] { try Fixtures.bytes("vllm/chat-stream.body") }

    /// The two records of the reference vectors (both over `Vectors.textA`), one line each as the proxy writes them.
    func receiptLines(ecdsaSignature: String = Vectors.hardhatSignatureA) throws -> [UInt8] {
        let ecdsa = try Vectors.signatureRecord(
            text: Vectors.textA, signature: ecdsaSignature, address: Vectors.hardhatAddress, algo: "ecdsa")
        let ed25519 = try Vectors.signatureRecord(
            text: Vectors.textA, signature: Vectors.rfc8032SignatureA, address: Vectors.rfc8032Public, algo: "ed25519")
        let prefix = Array(InlineReceiptFormat.streamLinePrefix.utf8)
        return prefix + ecdsa + [0x0A] + prefix + ed25519 + [0x0A, 0x0A]
    }

    @Test("a stream's receipt lines: the signed bytes are the stream before them, and both records verify")
    func stream() throws {
        let body = try body()
        let received = body + (try receiptLines())
        let receipt = try #require(InlineReceipt.read(body: received, headers: []))
        #expect(receipt.signedResponse == body)
        #expect(receipt.records.count == 2)
        for record in receipt.records {
            let report = verifier.verifySignature(request: Fixtures.request, response: receipt.signedResponse, signature: record)
            #expect(report.ok, "\(report.failures)")
        }
        // The answer as an SSE client reads it is unchanged: the receipt lines are comments.
        let reading = ResponseReading.read(received, route: .chatCompletions, contentType: "text/event-stream")
        #expect(reading == ResponseReading.read(body, route: .chatCompletions, contentType: "text/event-stream"))
    }

    @Test("a non-streamed answer's receipt headers, names in any case")
    func headers() throws {
        let body = try body()
        let headers: [(name: String, value: String)] = [
            ("content-type", "application/json"), (InlineReceiptFormat.textHeader.lowercased(), Vectors.textA),
            (InlineReceiptFormat.ecdsaSignatureHeader, Vectors.hardhatSignatureA),
            (InlineReceiptFormat.ecdsaAddressHeader.uppercased(), Vectors.hardhatAddress),
            (InlineReceiptFormat.ed25519SignatureHeader, Vectors.rfc8032SignatureA),
            (InlineReceiptFormat.ed25519PublicKeyHeader, Vectors.rfc8032Public),
        ]
        let receipt = try #require(InlineReceipt.read(body: body, headers: headers))
        #expect(receipt.signedResponse == body)
        #expect(receipt.records.count == 2)
        for record in receipt.records {
            #expect(verifier.verifySignature(request: Fixtures.request, response: body, signature: record).ok)
        }
        // One algorithm's headers alone still make a receipt.
        let ecdsaOnly = try #require(InlineReceipt.fromHeaders(Array(headers.prefix(4)), body: body))
        #expect(ecdsaOnly.records.count == 1)
    }

    @Test("no receipt where there is none, or where its lines are not the stream's last")
    func absent() throws {
        let body = try body()
        let lines = try receiptLines()
        #expect(InlineReceipt.read(body: body, headers: []) == nil)
        #expect(InlineReceipt.fromHeaders([("X-Signature-Ecdsa", Vectors.hardhatSignatureA)], body: body) == nil)
        // Receipt lines followed by more events are not a receipt.
        #expect(InlineReceipt.fromStream(body + lines + Array("data: {}\n\n".utf8)) == nil)
        // Without the closing blank line, or glued to an unfinished event.
        #expect(InlineReceipt.fromStream(body + lines.dropLast()) == nil)
        #expect(InlineReceipt.fromStream(body.dropLast() + lines) == nil)
        #expect(InlineReceipt.fromStream(lines) == nil)
        #expect(InlineReceipt.fromStream([]) == nil)
    }

    @Test("a tampered receipt or tampered bytes fail verification")
    func tampered() throws {
        let body = try body()
        let forged = String(Vectors.hardhatSignatureA.dropLast(2)) + "1c"
        let receipt = try #require(InlineReceipt.fromStream(body + (try receiptLines(ecdsaSignature: forged))))
        #expect(!verifier.verifySignature(request: Fixtures.request, response: receipt.signedResponse, signature: receipt.records[0]).ok)
        var changed = try #require(InlineReceipt.fromStream(body + (try receiptLines())))
        changed.signedResponse[10] ^= 1
        let report = verifier.verifySignature(request: Fixtures.request, response: changed.signedResponse, signature: changed.records[1])
        #expect(report.failures.map(\.id).contains("signature.response-hash"))
    }
}
