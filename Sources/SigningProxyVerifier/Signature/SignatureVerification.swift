import Crypto
import SigningContract
import SigningCrypto

/// Signature checks of one exchange (docs/API.md, Signatures): hashes, signed text and the signature.
enum SignatureVerification {
    /// The signer a verified record names, used to bind it to an attestation.
    struct Signer: Sendable, Hashable {
        var algorithm: SignatureAlgorithm
        /// `signing_address` as given.
        var address: String
    }

    /// Runs the checks and returns the signer when the record could be read.
    static func run(
        request: some Collection<UInt8>,
        response: some Collection<UInt8>,
        record recordBytes: some Collection<UInt8>,
        options: VerificationOptions,
        into checks: inout CheckList
    ) -> Signer? {
        let record: SignatureRecord
        switch SignatureRecord.parse(recordBytes) {
        case .success(let parsed): record = parsed
        case .failure(let failure):
            checks.fail("signature.record", failure.description)
            return nil
        }
        guard let algorithm = record.algorithm else {
            checks.fail("signature.record", "signing_algo \"\(record.signingAlgo ?? "")\" is neither ecdsa nor ed25519")
            return nil
        }
        checks.pass("signature.record", "signature record for \(algorithm.rawValue), signing_address \(record.signingAddress)")

        switch SignedText.parse(record.text) {
        case .failure(let failure):
            checks.fail("signature.text", failure.description)
        case .success(let text):
            checkText(text, options: options, into: &checks)
            let requestHash = SignedText.sha256Hex(request)
            checks.expect(
                requestHash == text.requestHash, "signature.request-hash",
                pass: "sha256(request bytes) = \(requestHash) matches the signed text",
                fail: "sha256(request bytes) = \(requestHash) but the signed text has \(text.requestHash) "
                    + "(different bytes were sent, or a gateway set X-Request-Hash)")
            let responseHash = SignedText.sha256Hex(response)
            checks.expect(
                responseHash == text.responseHash, "signature.response-hash",
                pass: "sha256(response bytes) = \(responseHash) matches the signed text",
                fail: "sha256(response bytes) = \(responseHash) but the signed text has \(text.responseHash) "
                    + "(the response bytes differ from what was signed)")
        }

        switch algorithm {
        case .ecdsa: checkECDSA(record, into: &checks)
        case .ed25519: checkEd25519(record, into: &checks)
        }
        return Signer(algorithm: algorithm, address: record.signingAddress)
    }

    private static func checkText(_ text: SignedText, options: VerificationOptions, into checks: inout CheckList) {
        switch (text.model, options.expectedModel) {
        case (nil, _):
            checks.pass("signature.text", "format A (request:response hashes, no model name)")
        case (let model?, nil):
            checks.pass("signature.text", "format B with model \"\(model)\" (no expected model given, not compared)")
        case (let model?, let expected?):
            checks.expect(
                model == expected, "signature.text",
                pass: "format B with the expected model \"\(model)\"",
                fail: "format B names model \"\(model)\", expected \"\(expected)\"")
        }
    }

    private static func checkECDSA(_ record: SignatureRecord, into checks: inout CheckList) {
        let id = "signature.ecdsa"
        let claimed: EthereumAddress
        do {
            claimed = try EthereumAddress(string: record.signingAddress.trimmingASCIIWhitespace())
        } catch {
            checks.fail(id, "signing_address is not a 20-byte hex Ethereum address")
            return
        }
        let signature: Secp256k1RecoverableSignature
        do {
            let bytes = try Hex.decode(record.signature.trimmingASCIIWhitespace())
            guard bytes.count == 65 else {
                checks.fail(id, "signature has \(bytes.count) bytes, expected 65 (r‖s‖v)")
                return
            }
            signature = try Secp256k1RecoverableSignature(rsv: bytes)
        } catch {
            checks.fail(id, "signature is not 0x + 130 hex characters with v in {0,1,27,28}")
            return
        }
        guard signature.isLowS else {
            checks.fail(id, "signature has a high S value (s > n/2): rejected as malleable")
            return
        }
        do {
            let digest = PersonalSign.digest(message: Array(record.text.utf8))
            let recovered = EthereumAddress(publicKey: try signature.recoverPublicKey(digest: digest))
            checks.expect(
                recovered == claimed, id,
                pass: "EIP-191 signature recovers to \(recovered.checksummed) = signing_address",
                fail: "EIP-191 signature recovers to \(recovered.checksummed), not signing_address \(claimed.checksummed)")
        } catch {
            checks.fail(id, "no public key can be recovered from the signature (\(error))")
        }
    }

    private static func checkEd25519(_ record: SignatureRecord, into checks: inout CheckList) {
        let id = "signature.ed25519"
        guard let keyBytes = HexFormatting.decode(record.signingAddress), keyBytes.count == 32,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else {
            checks.fail(id, "signing_address is not a 32-byte hex ed25519 public key")
            return
        }
        guard let signature = HexFormatting.decode(record.signature), signature.count == 64 else {
            checks.fail(id, "signature is not 128 hex characters (64 bytes)")
            return
        }
        checks.expect(
            key.isValidSignature(signature, for: Array(record.text.utf8)), id,
            pass: "ed25519 signature over the signed text verifies with \(HexFormatting.short(keyBytes))",
            fail: "ed25519 signature does not verify with signing_address \(HexFormatting.short(keyBytes))")
    }
}
