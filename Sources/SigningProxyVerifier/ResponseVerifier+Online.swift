import TDX

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a caller must fetch for the online checks, read from the bytes it already holds. The
/// library never touches the network: fetch with these, then pass the answers in
/// `VerificationOptions.collateral` and `VerificationOptions.nras`.
extension ResponseVerifier {
    /// The FMSPC and PCK CA of a quote (hex, binary, or JSON with `quote`/`intel_quote`), to fetch
    /// its collateral; nil when the quote or its PCK certificate cannot be read.
    public static func collateralRequest(forQuote input: some Collection<UInt8>) -> CollateralRequest? {
        guard case .success(let parsed) = QuoteInput.parse(Array(input)) else { return nil }
        return collateralRequest(quoteBytes: parsed.quote)
    }

    /// The FMSPC and PCK CA of the quote in an attestation report entry (see ``verifyAttestation(_:nonce:signingAddress:)``
    /// for how `signingAddress` selects it).
    public static func collateralRequest(
        forAttestation attestation: some Collection<UInt8>, signingAddress: String? = nil
    ) -> CollateralRequest? {
        guard let entry = entry(in: attestation, signingAddress: signingAddress),
            let quote = entry.intelQuote.flatMap(HexFormatting.decode)
        else { return nil }
        return collateralRequest(quoteBytes: quote)
    }

    /// The `nvidia_payload` object of an attestation report entry as JSON bytes, the body to POST to
    /// NRAS; nil when the entry has no GPU evidence. A payload sent as a JSON string is returned as
    /// that string's exact text.
    public static func nvidiaPayload(inAttestation attestation: some Collection<UInt8>, signingAddress: String? = nil) -> [UInt8]? {
        guard let document = try? JSONDecoder().decode(NvidiaPayloadDocument.self, from: Data(attestation)) else { return nil }
        let candidates = (document.allAttestations ?? []) + [document]
        let chosen =
            signingAddress.map { wanted in candidates.first { normalize($0.signingAddress) == normalize(wanted) } }
            ?? document.nvidiaPayload.map { _ in document } ?? candidates.first
        guard let text = chosen?.nvidiaPayload?.bytes, !String(decoding: text, as: UTF8.self).trimmingASCIIWhitespace().isEmpty
        else { return nil }
        return text
    }

    private static func collateralRequest(quoteBytes: [UInt8]) -> CollateralRequest? {
        guard let quote = try? TDXQuote(bytes: quoteBytes),
            case .success(let chain) = CertificateChain.parse(pem: quote.authData.pckChainPEM),
            case .success(let pck) = PCKExtension.parse(chain.leaf)
        else { return nil }
        let issuer = CertificateChain.commonName(chain.certificates.count > 1 ? chain.certificates[1] : chain.leaf) ?? ""
        return CollateralRequest(fmspc: HexFormatting.full(pck.fmspc), pckCA: issuer.contains("Processor") ? "processor" : "platform")
    }

    /// The report entry for `signingAddress` (from `all_attestations` when present), else the top level.
    private static func entry(in attestation: some Collection<UInt8>, signingAddress: String?) -> AttestationDocument? {
        guard case .success(let document) = LenientJSON.decode(AttestationDocument.self, from: attestation, what: "report") else {
            return nil
        }
        let candidates = (document.allAttestations ?? []) + [document]
        guard let signingAddress else { return document.intelQuote == nil ? candidates.first : document }
        return candidates.first { normalize($0.signingAddress) == normalize(signingAddress) }
    }

    private static func normalize(_ address: String?) -> String {
        let lower = (address ?? "").trimmingASCIIWhitespace().lowercased()
        return lower.hasPrefix("0x") ? String(lower.dropFirst(2)) : lower
    }
}
